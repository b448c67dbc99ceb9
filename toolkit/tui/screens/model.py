"""Step 2, Model: the ranked candidates from ``core.recommend.pick``, with use-case and speed selectors.

The table lists every variant best first; moving the cursor shows that row's estimate (memory split,
prefill, TTFT, what bounds it) and enter makes it the pick that Compose and Launch use. Under the table a
field takes any Ollama tag: one the catalog knows gets the same estimate as its row, any other is used as
typed with no estimate. The ranking runs in a thread worker (the catalog is read from disk the first time)
so the table never blocks keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Label, Select, Static

from toolkit.core.catalog.model import USE_CASES, Catalog
from toolkit.core.catalog.offcatalog import resolve_model
from toolkit.core.estimate.grades import GRADE_KEY, grade_line
from toolkit.core.estimate.params import DEFAULT_PARAMS
from toolkit.core.machine.hardware import Machine
from toolkit.core.recommend.candidate import Candidate, short_note
from toolkit.core.recommend.pick import DEFAULT_TARGET_TPS, Recommendation, recommend
from toolkit.tui import fmt
from toolkit.tui.messages import ModelChosen
from toolkit.tui.plan import Pick
from toolkit.tui.screens.base import WizardScreen
from toolkit.tui.widgets.plain import Plain

#: Speed targets offered: a slow floor, the default, and the C and B grade lines (reading pace, faster
#: than anyone reads), taken from ``toolkit.core.estimate.grades`` so the choices follow the grades.
TARGETS: tuple[float, ...] = (5.0, DEFAULT_TARGET_TPS, grade_line("C"), grade_line("B"))

HINT = "↑↓ move · Enter: use it and go on · not listed? type any Ollama tag below"

#: The table's columns (label, key); a Mac also gets native Ollama's Metal decode after tok/s. Model, tok/s
#: and grade come first: a narrow terminal (60 columns) cuts the columns on the right.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("model tag", "tag"),
    ("tok/s", "tps"),
    ("grade", "grade"),
    ("fit", "fit"),
    ("GiB", "ram"),
    ("TTFT", "ttft"),
    ("use", "score"),
    ("note", "note"),
)
METAL_COLUMN = ("metal", "metal")


def table_key(rec: Recommendation) -> str:
    """The lines under the table: what the grades, the red speeds, the fit marks and the columns mean."""
    lines = [
        GRADE_KEY,
        f"<C under 15 · red, slow: under your {rec.target_tps:g} tok/s target · fit ✓ roomy ~ tight ✗ no",
    ]
    if rec.metal:
        lines.append("tok/s: Ollama in Docker, CPU only · metal: native Ollama on the Mac's GPU")
    return "\n".join(lines)


def speed_cell(candidate: Candidate) -> Text:
    """The tok/s cell, red when it is below the target (the note column says "too slow")."""
    return Text(f"{candidate.decode_tps:.1f}", style="" if candidate.meets_target else "red")


@dataclass(frozen=True)
class TypedTag:
    """A tag typed in the Model step that the catalog does not know: used as typed, with no estimate.

    Carries the request the table was ranked for, as a ``Pick`` does, so Compose and Launch plan it alike.

    Attributes:
        tag: the Ollama tag as typed.
        context_length: tokens of context per slot.
        num_parallel: users served at once (OLLAMA_NUM_PARALLEL).
        kv_cache_type: KV cache type.
    """

    tag: str
    context_length: int
    num_parallel: int
    kv_cache_type: str


FIT_MARKS = {"comfortable": ("✓", "green"), "fits": ("~", "yellow"), "no": ("✗", "red")}


def fit_cell(candidate: Candidate) -> Text:
    key = "comfortable" if candidate.fits_comfortably else ("fits" if candidate.fits else "no")
    mark, style = FIT_MARKS[key]
    return Text(mark, style=style)


def candidate_details(rec: Recommendation, candidate: Candidate) -> str:
    """What the estimate for one row says, in two or three lines."""
    est = candidate.estimate
    chosen = rec.pick is not None and rec.pick.tag == candidate.tag
    lines = [
        f"{'Pick' if chosen else 'Row'}: {candidate.tag} ({candidate.params_b:g}B, {candidate.quant}) · "
        f"RAM {fmt.gib(est.total_bytes)} = weights {fmt.gib(est.weights_bytes)}"
        f" + KV {fmt.gib(est.kv_bytes)} + overhead {fmt.gib(est.overhead_bytes)}",
        f"decode {fmt.tps(est.decode_tps)} after {est.decode_depth} tokens of context"
        f" · prefill {fmt.tps(est.prefill_tps)}"
        f" · TTFT {fmt.seconds(est.ttft_s)} ({est.prompt_tokens}-token prompt)"
        f" · grade {est.grade} · {est.factors.bound}-bound",
    ]
    metal = rec.metal.get(candidate.tag)
    if metal is not None:
        lines.append(
            f"native Ollama on the GPU ({metal.chip}, Metal): decode {fmt.tps(metal.decode_tps)} · prefill"
            f" {fmt.tps(metal.prefill_tps)} · TTFT {fmt.seconds(metal.ttft_s)}; the table's tok/s is Docker's"
        )
    if candidate.why_not:
        lines.append(f"Not first choice: {candidate.why_not}")
    if chosen:
        lines += [f"• {reason}" for reason in rec.reasons]
    return "\n".join(lines)


def _in_catalog(catalog: Catalog, tag: str) -> bool:
    from toolkit.errors import UnknownModelError

    try:
        catalog.find(tag)
    except UnknownModelError:
        return False
    return True


class ModelScreen(WizardScreen):
    """Selectors, the ranked table, and the details of the highlighted row."""

    STEP_ID = "model"
    AUTO_FOCUS = "#model-table"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "choose", "Use, go on", show=True)]

    def __init__(self) -> None:
        super().__init__()
        self.recommendation: Recommendation | None = None
        self.catalog: Catalog | None = None
        #: The estimator's parameters the table was ranked with (calibrated on this machine, if it is).
        self.params = DEFAULT_PARAMS
        #: The user chose a row or typed a tag here: the compose file's model no longer decides.
        self.user_chose = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="toolbar"):
            yield Label("Use")
            yield Select([(u, u) for u in USE_CASES], value="chat", allow_blank=False, id="model-use")
            yield Label("Target")
            yield Select(
                [(f"{t:g} tok/s", t) for t in TARGETS],
                value=DEFAULT_TARGET_TPS,
                allow_blank=False,
                id="model-target",
            )
        yield Plain(HINT, id="model-hint", classes="status")
        table: DataTable[str | Text] = DataTable(id="model-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Plain("", id="model-key", classes="status")
        yield Input(placeholder="any Ollama tag, e.g. qwen2.5-coder:7b (enter uses it)", id="model-tag")
        yield Plain("Waiting for the machine…", id="model-details", classes="status")

    def on_mount(self) -> None:
        self.set_columns(metal=False)
        self.watch(self.app, "machine", self.machine_changed)
        self.watch(self.app, "world", lambda _w: self.start_row())

    def set_columns(self, *, metal: bool) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        columns = list(COLUMNS)
        if metal:
            columns.insert(2, METAL_COLUMN)
        for label, key in columns:
            table.add_column(label, key=key)

    def machine_changed(self, machine: Machine | None) -> None:
        if machine is not None:
            self.rank(machine, *self.request())

    def request(self) -> tuple[str, float]:
        use = self.query_one("#model-use", Select).value
        target = self.query_one("#model-target", Select).value
        return (
            use if isinstance(use, str) else "chat",
            target if isinstance(target, float) else DEFAULT_TARGET_TPS,
        )

    @on(Select.Changed)
    def request_changed(self) -> None:
        if self.wizard.machine is not None:
            self.rank(self.wizard.machine, *self.request())

    @work(thread=True, exclusive=True, group="rank", exit_on_error=False)
    def rank(self, machine: Machine, use_case: str, target: float) -> None:
        from dataclasses import replace

        from toolkit.services.estimating import machine_params

        if self.catalog is None:
            self.catalog = self.services.catalog()
        # This machine's benchmark calibration, as `gpuless recommend` and the plan apply it.
        chosen = machine_params(self.services.settings.calibration_path, machine, this_machine=True)
        self.params = chosen.params
        rec = recommend(machine, self.catalog, use_case=use_case, target_tps=target, params=chosen.params)
        if chosen.note:
            rec = replace(rec, reasons=(*rec.reasons, chosen.note))
        self.app.call_from_thread(self.show, rec)

    def show(self, rec: Recommendation) -> None:
        self.recommendation = rec
        table = self.query_one(DataTable)
        self.set_columns(metal=bool(rec.metal))
        self.query_one("#model-key", Static).update(table_key(rec))
        for c in rec.candidates:
            metal = rec.metal.get(c.tag)
            # Memory (GiB, named in the header) and TTFT are written short ("3.0", "0.92", "4.5s") so the
            # note column fits 80 columns.
            ram = fmt.gib(c.total_bytes).removesuffix(" GiB")
            cells: list[str | Text] = [c.tag, speed_cell(c)]
            if rec.metal:
                cells.append(f"{metal.decode_tps:.1f}" if metal else "–")
            cells += [c.grade, fit_cell(c), ram, f"{c.ttft_s:.1f}s", f"{c.use_case_score}/10"]
            cells.append(Text(short_note(c)))
            table.add_row(*cells, key=c.tag)
        self.start_row()

    def start_row(self) -> None:
        """Until the user chooses, the row of the compose file's model (the one that runs, or will),
        else the recommendation's pick."""
        rec, file = self.recommendation, self.wizard.file_spec
        if rec is None or self.user_chose:
            return
        start = self.candidate(file.model) if file is not None else None
        if file is not None and start is None:  # a tag the table does not list: used as the file says
            self.query_one("#model-tag", Input).value = file.model
            typed = TypedTag(file.model, rec.context, rec.users, rec.kv_cache_type)
            self.post_message(ModelChosen(typed))
            return
        start = start or rec.pick
        if start is not None:
            table = self.query_one(DataTable)
            table.move_cursor(row=table.get_row_index(start.tag))
            self.choose(start)
        else:
            self.query_one("#model-details", Static).update("Nothing fits.\n" + "\n".join(rec.reasons))

    @on(DataTable.RowHighlighted)
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        candidate = self.candidate(event.row_key.value)
        if self.recommendation is not None and candidate is not None:
            self.query_one("#model-details", Static).update(candidate_details(self.recommendation, candidate))

    @on(DataTable.RowSelected)
    def selected(self, event: DataTable.RowSelected) -> None:
        candidate = self.candidate(event.row_key.value)
        if candidate is not None:
            self.user_chose = True
            self.choose(candidate)
            self.notify(
                f"{candidate.tag} chosen: Compose and Launch will use it.", title="Model", markup=False
            )
            self.wizard.action_step(1)  # enter selects and goes on

    def action_choose(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            table.action_select_cursor()

    # --- a typed tag ------------------------------------------------------------------------------

    def typed_candidate(self, tag: str) -> Candidate | None:
        """The estimate for a typed tag (ranked for the table's request): the catalog's, or one from the
        tag's name (parameters, quantisation) when the catalog lacks it; None when neither can say."""
        from toolkit.errors import UnknownModelError

        machine, catalog = self.wizard.machine, self.catalog
        if machine is None or catalog is None or not tag:
            return None
        try:
            pair = resolve_model(catalog, tag)  # a tag the catalog lacks is estimated from its name
        except UnknownModelError:
            return None
        use_case, target = self.request()
        ranked = recommend(
            machine, catalog, use_case=use_case, target_tps=target, only=(pair,), params=self.params
        )
        return ranked.candidates[0] if ranked.candidates else None

    def typed_details(self, tag: str) -> str:
        candidate = self.typed_candidate(tag)
        if candidate is not None and self.recommendation is not None:
            text = candidate_details(self.recommendation, candidate)
            catalog = self.catalog
            if catalog is not None and not _in_catalog(catalog, tag):  # sized from its name: how roughly
                spec, _ = resolve_model(catalog, tag)
                text += f"\n{spec.notes}"
            return text
        return (
            f"{tag}: no estimate (not in gpuless's catalog, and its name gives no size such as 3b)."
            " Enter uses it as typed; Launch pulls it, and the Benchmark step measures it."
        )

    @on(Input.Changed, "#model-tag")
    def tag_typed(self, event: Input.Changed) -> None:
        tag = event.value.strip()
        if tag:
            self.query_one("#model-details", Static).update(self.typed_details(tag))

    @on(Input.Submitted, "#model-tag")
    def tag_chosen(self, event: Input.Submitted) -> None:
        tag = event.value.strip()
        rec = self.recommendation
        if not tag or rec is None:
            return
        candidate = self.typed_candidate(tag)
        if candidate is not None:
            self.query_one("#model-details", Static).update(candidate_details(rec, candidate))
            choice: Pick | TypedTag = Pick(candidate, rec.context, rec.users, rec.kv_cache_type)
        else:
            self.query_one("#model-details", Static).update(self.typed_details(tag))
            choice = TypedTag(tag, rec.context, rec.users, rec.kv_cache_type)
        self.user_chose = True
        self.post_message(ModelChosen(choice))
        self.notify(f"{choice.tag} chosen: Compose and Launch will use it.", title="Model", markup=False)
        self.set_focus(None)  # out of the field, so the step keys work at once on coming back
        self.wizard.action_step(1)  # enter selects and goes on

    def candidate(self, tag: str | None) -> Candidate | None:
        if self.recommendation is None:
            return None
        return next((c for c in self.recommendation.candidates if c.tag == tag), None)

    def choose(self, candidate: Candidate) -> None:
        rec = self.recommendation
        assert rec is not None
        self.query_one("#model-details", Static).update(candidate_details(rec, candidate))
        self.post_message(ModelChosen(Pick(candidate, rec.context, rec.users, rec.kv_cache_type)))


SCREEN = ModelScreen
