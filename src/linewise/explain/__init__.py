"""Explain: reason texts in zh-CN and en, model reasons, recourse, customer notices."""
