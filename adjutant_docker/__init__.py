"""adjutant_docker"""
