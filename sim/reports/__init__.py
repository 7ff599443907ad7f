"""Figures and reports: run figures, summaries, analysis figures."""
