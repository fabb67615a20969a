"""Excel (.xlsx) batch import of catalogue entries: the template, the reader, the validation report, the import.

A file is checked completely before anything is written: its size, its real type (by content, not by name),
its sheets and headers, merged cells, formulas, the row limit, then every row and cell, and finally every
resource against the catalogue's rules (`services.resolve_drafts`, the same rules as the API and the pages).
Any problem refuses the whole file with a report of 工作表 / 行号 / 列 / 问题 (`govshare.core.tabular.problems`); a
clean file is created in one transaction through `services.create_resources`. Every attempt is kept as an
`ImportBatch` with an audit row.

The parts, each importing only those before it:

- `layout`: the sheets and their columns, the choice lookups;
- `report`: the report's problems, their order, the report kept with a batch;
- `limits`: the size, type and row limits, and the upload handler that stops an oversized upload;
- `reading`: the workbook read into drafts (`govshare.core.tabular.xlsx`), with every cell-level problem;
- `validation`: the drafts against the catalogue's rules, the importer's departments, the codes in use;
- `service`: the import itself, its batches;
- `template`: the template, and the rows an export writes in its layout.

The names below are this package's interface.
"""

from __future__ import annotations

from govshare.catalog.importing.layout import (
    EXAMPLE_SEQ,
    GUIDE_SHEET,
    ITEM_COLUMNS,
    ITEM_SHEET,
    RESOURCE_COLUMNS,
    RESOURCE_SHEET,
    SHEET_COLUMNS,
    TEMPLATE_FILE_NAME,
    XLSX_CONTENT_TYPE,
    Column,
    header_row,
)
from govshare.catalog.importing.limits import (
    ITEM_ROWS_PER_RESOURCE_ROW,
    MULTIPART_SLACK,
    UNCOMPRESSED_FACTOR,
    UploadSizeLimit,
    limit_upload,
    row_limit_message,
    size_limit_message,
    sniff_file,
)
from govshare.catalog.importing.reading import MAX_DESCRIPTION, ParsedFile, ParsedResource, parse_workbook
from govshare.catalog.importing.report import MAX_REPORTED_PROBLEMS, ImportProblem, ImportRefused, report_of
from govshare.catalog.importing.service import (
    AlreadyImported,
    ImportResult,
    created_by_batch,
    earlier_import,
    get_my_batch,
    import_catalog,
    may_import,
    my_batches,
    refuse_too_large,
)
from govshare.catalog.importing.template import (
    VALIDATION_ROWS,
    guide_rows,
    item_row_values,
    resource_row_values,
    template_bytes,
    write_template,
)
from govshare.catalog.importing.validation import Validation, validate

__all__ = [
    "EXAMPLE_SEQ",
    "GUIDE_SHEET",
    "ITEM_COLUMNS",
    "ITEM_ROWS_PER_RESOURCE_ROW",
    "ITEM_SHEET",
    "MAX_DESCRIPTION",
    "MAX_REPORTED_PROBLEMS",
    "MULTIPART_SLACK",
    "RESOURCE_COLUMNS",
    "RESOURCE_SHEET",
    "SHEET_COLUMNS",
    "TEMPLATE_FILE_NAME",
    "UNCOMPRESSED_FACTOR",
    "VALIDATION_ROWS",
    "XLSX_CONTENT_TYPE",
    "AlreadyImported",
    "Column",
    "ImportProblem",
    "ImportRefused",
    "ImportResult",
    "ParsedFile",
    "ParsedResource",
    "UploadSizeLimit",
    "Validation",
    "created_by_batch",
    "earlier_import",
    "get_my_batch",
    "guide_rows",
    "header_row",
    "import_catalog",
    "item_row_values",
    "limit_upload",
    "may_import",
    "my_batches",
    "parse_workbook",
    "refuse_too_large",
    "report_of",
    "resource_row_values",
    "row_limit_message",
    "size_limit_message",
    "sniff_file",
    "template_bytes",
    "validate",
    "write_template",
]
