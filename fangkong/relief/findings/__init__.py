"""Findings as the auditor receives them: the audit report draft (.docx) and the findings workbook (.xlsx)."""
