"""Importers: files in other layouts turned into linewise portfolios."""
