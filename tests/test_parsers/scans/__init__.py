"""Scanned and photographed forms, made at test time from the typed sample PDFs."""
