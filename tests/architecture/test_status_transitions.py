"""One transition per state machine (issue 8, section 2): only `inbox.services.transition` changes a
ticket's status, so every change passes the transition table, writes an audit row with its actor and
publishes TicketStatusChanged. This test reads the source (AST) and fails on any other module that
assigns `.status` / `.status_category`, passes them to `.update(...)`, or sets them with setattr."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "aftersales"
THE_TRANSITION = PACKAGE / "inbox" / "services" / "transition.py"
STATUS_FIELDS = {"status", "status_category"}
# The other state machines' one writer each: (file) -> (the function, the attribute it may assign).
# Rma.status: returns.rma.rma_transition_batch (a batch of locked RMAs: it assigns each one's status and
# writes them in one `.update(status=...)`, allowed inside that function only; `rma_transition` is that
# batch of one); Refund.status: returns.refunds.refund_transition.
TRANSITION_FUNCTIONS = {
    "returns/rma.py": ("rma_transition_batch", "rma.status"),
    "returns/refunds.py": ("refund_transition", "refund.status"),
    "returns/exchanges.py": ("exchange_transition", "exchange.status"),
}
# Demo data is bulk-written rows; tests and migrations set up states on purpose.
EXEMPT_PARTS = {"demo", "tests", "testing", "migrations"}
# Assignments to a `status` attribute of objects that are not tickets: (file, source of the target).
NOT_TICKETS = {
    ("channels/base.py", "self.status"),  # a connector error's HTTP status
    ("channels/sync.py", "row.status"),  # a received record's processing state (RawEvent)
    ("channels/sync.py", "run.status"),  # a sync run's outcome (SyncRun)
    ("rules/simulation_runs.py", "run.status"),  # a background dry run's progress (RuleSimulationRun)
    ("language/providers/base.py", "self.status"),  # a provider error's HTTP status
    ("language/inbound.py", "state.status"),  # a message's translation state
    ("web/views/inbox.py", "state.status"),  # the inbox page's HTTP status
    ("tracking/services.py", "shipment.status"),  # a shipment's carrier status (tracking_apply, the one writer)
    ("returns/exchanges.py", "order.status"),  # a cancelled exchange's replacement order
    ("warranty/transition.py", "claim.status"),  # a warranty claim's status (claim_transition, the one writer)
    ("warranty/transition.py", "repair.status"),  # a repair order's status (repair_transition, the one writer)
}
# `.update(status=...)` on querysets of other models: (file, a word naming that model in the call).
OTHER_MODEL_UPDATES = {
    ("channels/sync.py", "RawEvent"),  # a received record's processing state
    ("channels/sync.py", "SyncRun"),  # a run abandoned by a dead worker
    ("channels/erasure.py", "RawEvent"),  # an erased buyer's quarantined raw copy set aside as ignored
    ("channels/writeback.py", "WriteBack"),  # the write-back ledger's state
    ("language/services.py", "TranslationJob"),
    ("returns/bulk.py", "RmaBulkJob"),  # a bulk RMA job's progress state (queued, running, done)
    ("returns/bulk.py", "RmaBulkItem"),  # one item's result in a bulk RMA job (pending, ok, error)
    ("notifications/outbox.py", "fields"),  # the outbox row's delivery state, collected in a dict of fields
}


def _violations(path: Path) -> list[str]:
    return _violations_in(path.read_text(), path.relative_to(PACKAGE).as_posix())


def _allowed_nodes(tree: ast.AST, rel: str) -> set[int]:
    """ids of the assignment nodes inside this file's transition function (TRANSITION_FUNCTIONS)
    that write the attribute it owns, and of the `.update(...)` calls inside it (a batch writer)."""
    if rel not in TRANSITION_FUNCTIONS:
        return set()
    function, attribute = TRANSITION_FUNCTIONS[rel]
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Assign) and any(ast.unparse(t) == attribute for t in inner.targets):
                    allowed.add(id(inner))
                is_call = isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                if is_call and inner.func.attr == "update":  # type: ignore[attr-defined]
                    allowed.add(id(inner))
    return allowed


def _violations_in(source: str, rel: str) -> list[str]:
    found = []
    tree = ast.parse(source)
    allowed = _allowed_nodes(tree, rel)
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if (
                    isinstance(leaf, ast.Attribute)
                    and leaf.attr in STATUS_FIELDS
                    and (rel, ast.unparse(leaf)) not in NOT_TICKETS
                ):
                    found.append(f"{rel}:{node.lineno} assigns {ast.unparse(leaf)}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            call = ast.unparse(node)
            if node.func.attr in {"update", "bulk_update"}:
                names = {kw.arg for kw in node.keywords} | {
                    c.value for a in node.args for c in ast.walk(a) if isinstance(c, ast.Constant)
                }
                other_model = any(f == rel and model in call for f, model in OTHER_MODEL_UPDATES)
                if STATUS_FIELDS & names and not other_model:
                    found.append(f"{rel}:{node.lineno} updates a status: {call[:80]}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in STATUS_FIELDS
        ):
            found.append(f"{rel}:{node.lineno} setattr {node.args[1].value}")
    return found


def test_only_the_transition_function_changes_a_ticket_status():
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == THE_TRANSITION or EXEMPT_PARTS & set(path.relative_to(PACKAGE).parts):
            continue
        violations.extend(_violations(path))
    assert violations == [], (
        "change a ticket's status through inbox.services.transition.ticket_transition:\n" + "\n".join(violations)
    )


def test_the_checker_sees_a_bypass():
    """The checker itself: each way of writing a status around the transition function is caught."""
    sample = (
        "def bypass(ticket, Ticket):\n"
        "    ticket.status = 'open'\n"
        "    ticket.status_category = 'open'\n"
        "    Ticket.objects.filter(pk=1).update(status='closed')\n"
        "    setattr(ticket, 'status', 'solved')\n"
    )
    found = _violations_in(sample, "inbox/services/sample.py")
    assert len(found) == 4, found


def test_the_transition_function_is_the_one_writer():
    """The module the checker exempts is the one that writes the status (guards the exemption)."""
    found = _violations(THE_TRANSITION)
    assert any("ticket.status" in f for f in found) and any("ticket.status_category" in f for f in found)


def test_rma_and_refund_statuses_have_one_writer_each():
    """Rma.status is assigned only inside returns.rma.rma_transition (and Refund.status only inside
    returns.refunds.refund_transition): the same assignment anywhere else, even elsewhere in those
    modules, is a violation."""
    sample = (
        "def rma_transition_batch(rma, to):\n"
        "    rma.status = to\n"
        "def rma_approve(rma):\n"
        "    rma.status = 'approved'\n"
        "    Rma.objects.filter(pk=1).update(status='approved')\n"
    )
    found = _violations_in(sample, "returns/rma.py")
    assert len(found) == 2 and all(":4 " in f or ":5 " in f for f in found), found
    assert _violations_in(sample, "returns/other.py") != []  # elsewhere even the function name does not help
    assert len(_violations_in(sample, "returns/other.py")) == 3
    batch = "def rma_transition_batch(rmas, to):\n    Rma.objects.filter(pk__in=[1]).update(status=to)\n"
    assert _violations_in(batch, "returns/rma.py") == []  # the batch writer's one UPDATE
    assert len(_violations_in(batch.replace("rma_transition_batch", "rma_bulk"), "returns/rma.py")) == 1
    rma_module = PACKAGE / "returns" / "rma.py"
    assert _violations(rma_module) == []
    assert "rma.status = to" in rma_module.read_text()


def test_refund_status_has_one_writer():
    """Refund.status is assigned only inside returns.refunds.refund_transition: the module passes, the
    assignment is there, and the same assignment in another function of it (or an update of the
    status) is caught."""
    refunds_module = PACKAGE / "returns" / "refunds.py"
    assert _violations(refunds_module) == []
    assert "refund.status = to" in refunds_module.read_text()
    sample = (
        "def refund_transition(refund, to):\n"
        "    refund.status = to\n"
        "def refund_approve(refund):\n"
        "    refund.status = 'approved'\n"
        "    Refund.objects.filter(pk=1).update(status='succeeded')\n"
    )
    found = _violations_in(sample, "returns/refunds.py")
    assert len(found) == 2 and all(":4 " in f or ":5 " in f for f in found), found
