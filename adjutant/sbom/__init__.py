"""Software bills of materials: what each build ran in, as SPDX documents."""
