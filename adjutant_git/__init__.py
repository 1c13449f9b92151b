"""adjutant_git"""
