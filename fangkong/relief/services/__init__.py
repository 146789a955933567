"""Writes for the relief audit, one module per area: projects and teams (`projects`), files and
imports (`imports`), the party and item catalogue (`parties`), findings (`findings`), and the test
catalogue's parameters and runs (`runs`).

Every write is keyword-only, atomic, and records an audit event in the same transaction. Services
never import the worker's tasks: they queue jobs by name through `jobs.queue`.
"""

from fangkong.relief.services.findings import (  # noqa: F401
    ERR_EVIDENCE,
    ERR_REASON,
    evidence_for_rows,
    finding_add,
    finding_annotate,
    finding_decide,
)
from fangkong.relief.services.imports import (  # noqa: F401
    ERR_ABANDONED,
    ERR_BUSY,
    ERR_CHECK_CRASHED,
    ERR_DUPLICATE_FILE,
    ERR_FIELD,
    ERR_FILE_NAME,
    ERR_KIND,
    ERR_NOT_READY,
    ERR_STATE,
    ERR_TOO_LARGE,
    file_upload,
    import_accept,
    import_discard,
    import_remap,
    imports_expire_stale,
    is_stalled,
    path_import,
    run_check,
    schedule_check,
    source_for_upload_path,
    stale_before,
    synonym_add,
)
from fangkong.relief.services.parties import (  # noqa: F401
    FUZZY_CUTOFF,
    catalogue_update,
    guess_grade,
    guess_party_kind,
    item_update,
    party_confirm,
    party_merge,
    party_split,
    party_update,
)
from fangkong.relief.services.projects import (  # noqa: F401
    ERR_LAST_LEAD,
    ERR_NOT_AUDITOR,
    ERR_NOT_LEAD,
    ERR_PERIOD,
    member_set,
    project_create,
)
from fangkong.relief.services.runs import (  # noqa: F401
    ERR_NO_DATA,
    ERR_NO_TESTS,
    ERR_PARAM,
    ERR_PARAM_RANGE,
    ERR_PARAM_TEXT,
    INLINE_RUN_ROWS,
    PARAM_MAX,
    PARAM_TEXT_MAX,
    catalogue_params_set,
    catalogue_run,
    catalogue_run_queued,
    catalogue_start,
    run_record,
)
