"""Tables in and out: the one streaming .xlsx reader (`xlsx`), the one CSV writer with its formula-injection rule
(`csv`), and the import-problem report (`problems`: 工作表 / 行号 / 列 / 问题) that every import renders the same
way. Core code: no app is imported here."""
