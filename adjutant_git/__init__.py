"""Source fetching plugin: git checkouts for buildSRPMFromSCM."""
