"""Validate an Argo Workflow made by `mlgate export argo` with the Argo
Workflows models of the `hera` SDK (generated from Argo's own schema).

Pydantic ignores unknown keys, so the document must also survive a round trip
through the model unchanged, and every DAG dependency and template reference
must resolve. Usage: validate_argo.py FILE...  (run by validate_argo.sh)
"""
import sys

import yaml
from hera.workflows.models import Workflow


def check(path):
    doc = yaml.safe_load(open(path))
    wf = Workflow.model_validate(doc)
    back = wf.model_dump(by_alias=True, exclude_none=True, mode="json")
    if back != doc:
        raise SystemExit(f"{path}: keys the Argo schema does not know were dropped:\n{back}\n!=\n{doc}")
    templates = {t.name for t in wf.spec.templates}
    tasks = wf.spec.templates[0].dag.tasks
    names = {t.name for t in tasks}
    for t in tasks:
        if t.template not in templates:
            raise SystemExit(f"{path}: task {t.name} uses unknown template {t.template}")
        for d in t.dependencies or []:
            if d not in names:
                raise SystemExit(f"{path}: task {t.name} depends on unknown task {d}")
    print(f"{path}: valid Argo Workflow, {len(tasks)} task(s)")


for p in sys.argv[1:]:
    check(p)
