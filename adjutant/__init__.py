"""adjutant"""
