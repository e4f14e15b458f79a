"""Micro-batching: concurrent requests share calls, options never mix, errors and swaps stay with their request."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from framelens.model.errors import FramelensError
from framelens.model.prediction import TextPrediction
from framelens.serve.batcher import Batcher, ModelNotReady, Options
from framelens.serve.model_holder import ModelHolder


class FakePredictor:
    """Echoes each text and its options back as a TextPrediction; records every call."""

    def __init__(self, version: str = "fake-1", gate: threading.Event | None = None) -> None:
        self.version = version
        self.calls: list[tuple[list[str], dict[str, Any]]] = []
        self.gate = gate
        self.entered = threading.Event()

    def classify(self, texts: list[str], **options: Any) -> list[TextPrediction]:
        self.calls.append((list(texts), options))
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        if any("boom" in t for t in texts):
            raise FramelensError("boom is not a passage")
        targets = options["targets"] or ["default"]
        return [TextPrediction([], {f"{t}|{target}": None for target in targets}, 1, self.version) for t in texts]


@pytest.fixture()
def holder() -> ModelHolder:
    return ModelHolder(FakePredictor())


@pytest.fixture()
def batcher(holder: ModelHolder) -> Iterator[Batcher]:
    b = Batcher(holder, max_size=32, max_wait_ms=200)
    b.start()
    yield b
    b.stop()


def keys(prediction: TextPrediction) -> list[str]:
    return list(prediction.stance)


def test_concurrent_requests_share_calls_grouped_by_options(batcher: Batcher, holder: ModelHolder) -> None:
    nato, plain = Options(targets=("NATO",)), Options()

    async def main() -> list[list[TextPrediction]]:
        jobs = [batcher.classify([f"a{i}", f"b{i}"], nato if i % 2 else plain) for i in range(6)]
        return await asyncio.gather(*jobs)

    answers = asyncio.run(main())
    for i, answer in enumerate(answers):
        target = "NATO" if i % 2 else "default"
        assert [keys(p) for p in answer] == [[f"a{i}|{target}"], [f"b{i}|{target}"]], "results reach their request"
    calls = holder.current().calls
    assert len(calls) == 2, "six requests with two option sets make two inference calls"
    for texts, options in calls:
        assert len(texts) == 6 and len({t[1:] for t in texts}) == 3
        assert options["targets"] in (["NATO"], None)


def test_a_failing_request_does_not_fail_its_batch_mates(batcher: Batcher) -> None:
    async def main() -> list[Any]:
        jobs = [batcher.classify([text], Options()) for text in ("fine one", "boom", "fine two")]
        return await asyncio.gather(*jobs, return_exceptions=True)

    good, bad, other = asyncio.run(main())
    assert isinstance(bad, FramelensError)
    assert keys(good[0]) == ["fine one|default"] and keys(other[0]) == ["fine two|default"]


def test_a_batch_in_flight_finishes_on_the_old_predictor_after_a_swap(holder: ModelHolder) -> None:
    gate = threading.Event()
    old = FakePredictor("old", gate)
    holder.swap(old)
    batcher = Batcher(holder, max_size=32, max_wait_ms=0)
    batcher.start()

    async def main() -> tuple[list[TextPrediction], list[TextPrediction]]:
        first = asyncio.ensure_future(batcher.classify(["in flight"], Options()))
        while not old.entered.is_set():
            await asyncio.sleep(0.001)
        holder.swap(FakePredictor("new"))
        gate.set()
        return await first, await batcher.classify(["after"], Options())

    try:
        before, after = asyncio.run(main())
    finally:
        batcher.stop()
    assert before[0].model_version == "old" and after[0].model_version == "new"


def test_no_model_means_not_ready() -> None:
    batcher = Batcher(ModelHolder(), max_size=4, max_wait_ms=1)
    with pytest.raises(ModelNotReady, match="loading"):
        asyncio.run(batcher.classify(["text"], Options()))


def test_a_request_bigger_than_a_batch_is_never_split(holder: ModelHolder) -> None:
    batcher = Batcher(holder, max_size=2, max_wait_ms=50)
    batcher.start()

    async def main() -> list[list[TextPrediction]]:
        return await asyncio.gather(batcher.classify(["x"] * 5, Options()), batcher.classify(["y"], Options()))

    try:
        big, small = asyncio.run(main())
    finally:
        batcher.stop()
    assert len(big) == 5 and len(small) == 1
    sizes = sorted(len(texts) for texts, _ in holder.current().calls)
    assert sizes == [1, 5]


def test_a_request_whose_client_left_is_never_scored(holder: ModelHolder) -> None:
    gate = threading.Event()
    busy = FakePredictor("busy", gate)
    holder.swap(busy)
    batcher = Batcher(holder, max_size=32, max_wait_ms=0)
    batcher.start()

    async def main() -> list[TextPrediction]:
        first = asyncio.ensure_future(batcher.classify(["in flight"], Options()))
        while not busy.entered.is_set():  # the worker is busy: what comes next waits in the queue
            await asyncio.sleep(0.001)
        gone = asyncio.ensure_future(batcher.classify(["client gone"], Options()))
        kept = asyncio.ensure_future(batcher.classify(["still waiting"], Options()))
        await asyncio.sleep(0.01)
        gone.cancel()  # what uvicorn does to the handler when its client disconnects
        await asyncio.sleep(0.01)
        gate.set()
        await first
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await kept

    try:
        kept = asyncio.run(main())
    finally:
        batcher.stop()
    assert keys(kept[0]) == ["still waiting|default"]
    scored = [text for texts, _ in busy.calls for text in texts]
    assert "client gone" not in scored, scored
    assert scored == ["in flight", "still waiting"]


def test_with_no_wait_requests_that_queue_behind_a_busy_batch_share_the_next_call(holder: ModelHolder) -> None:
    # The default (no wait for company) must still batch under load: what queued while the model ran goes in one call.
    gate = threading.Event()
    busy = FakePredictor("busy", gate)
    holder.swap(busy)
    batcher = Batcher(holder, max_size=32)
    batcher.start()

    async def main() -> list[list[TextPrediction]]:
        first = asyncio.ensure_future(batcher.classify(["first"], Options()))
        while not busy.entered.is_set():
            await asyncio.sleep(0.001)
        queued = [asyncio.ensure_future(batcher.classify([f"q{i}"], Options())) for i in range(5)]
        while batcher.pending < 5:
            await asyncio.sleep(0.001)
        gate.set()
        return [await first, *[await q for q in queued]]

    try:
        results = asyncio.run(main())
    finally:
        batcher.stop()
    assert [keys(r[0]) for r in results] == [["first|default"], *[[f"q{i}|default"] for i in range(5)]]
    assert [texts for texts, _ in busy.calls] == [["first"], ["q0", "q1", "q2", "q3", "q4"]]


class TwinnedPredictor(FakePredictor):
    """A FakePredictor whose siblings (the helper lanes' copies) answer ungated, under the version "<v>-sibling"."""

    def __init__(self, version: str = "fake-1", gate: threading.Event | None = None) -> None:
        super().__init__(version, gate)
        self.siblings: list[FakePredictor] = []

    def sibling(self) -> FakePredictor:
        twin = FakePredictor(f"{self.version}-sibling")
        self.siblings.append(twin)
        return twin


def test_a_helper_lane_scores_while_the_first_lane_is_busy() -> None:
    gate = threading.Event()
    first = TwinnedPredictor("old", gate)
    holder = ModelHolder(first)
    batcher = Batcher(holder, max_size=32, lanes=2)
    batcher.start()

    async def main() -> tuple[list[TextPrediction], list[TextPrediction], list[TextPrediction]]:
        blocked = asyncio.ensure_future(batcher.classify(["held"], Options()))
        while not first.entered.is_set():
            await asyncio.sleep(0.001)
        helped = await asyncio.wait_for(batcher.classify(["beside"], Options()), 5)
        assert not blocked.done(), "the first lane is still held at its gate"
        holder.swap(TwinnedPredictor("new", threading.Event()))  # its own gate, never opened
        after_swap = await asyncio.wait_for(batcher.classify(["after swap"], Options()), 5)
        gate.set()
        return await blocked, helped, after_swap

    try:
        held, helped, after_swap = asyncio.run(main())
    finally:
        gate.set()
        holder.current().gate.set()  # type: ignore[union-attr]
        batcher.stop()
    assert held[0].model_version == "old"
    assert helped[0].model_version == "old-sibling", "the helper scored it on its own copy"
    assert after_swap[0].model_version == "new-sibling", "a swap reaches the helper lane too"


def test_lone_requests_go_the_first_lanes_way() -> None:
    predictor = TwinnedPredictor()
    batcher = Batcher(ModelHolder(predictor), max_size=32, lanes=2)
    batcher.start()

    async def main() -> list[str]:
        return [(await batcher.classify([f"t{i}"], Options()))[0].model_version for i in range(20)]

    try:
        versions = asyncio.run(main())
    finally:
        batcher.stop()
    assert versions == ["fake-1"] * 20 and not predictor.siblings, "no helper took work from a free first lane"
