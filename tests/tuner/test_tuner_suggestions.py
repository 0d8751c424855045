"""lr_find's suggestion rules (issue 16 item 9): Lightning's steepest slope stays the default,
fastai's "valley" and "minimum/10" can be chosen, and a suggestion where the smoothed loss is
still flat is warned about, on the iris, digits and StatQuest specs."""

from __future__ import annotations

import math
import os
import random

import pytest

import lightdsl
from lightdsl.cli import main
from lightdsl.runtime.lr_find import suggest, valley_offset
from lightdsl.tuner.experiment import report_suggestion, run_lr_find

SPECS = os.path.join(os.path.dirname(__file__), "..", "..", "specs")


def fastai_valley(losses):
    """fastai's valley, as fastai/callback/schedule.py writes it (O(n^2))."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return list(range(n))[max_start + int(sections) + int(sections / 2)]


def test_valley_is_fastais_on_random_curves():
    rng = random.Random(0)
    for _ in range(2000):
        n = rng.randint(1, 50)
        losses = [rng.choice([rng.random(), float(rng.randint(0, 4))]) for _ in range(n)]
        assert valley_offset(losses) == fastai_valley(losses), losses


def test_fastai_rules_read_fastais_window():
    # 40 points: fastai leaves out the first 4 and the last 5; the window ends at a NaN
    lrs = [10 ** (-6 + i / 8) for i in range(40)]
    losses = [5.0] * 10 + [5.0 - 0.1 * i for i in range(20)] + [9.0] * 10
    lr, index, begin = suggest("valley", lrs, losses, 40)
    assert begin == 4 and lr == lrs[index]
    assert index == 4 + fastai_valley(losses[4:35])
    lr, index, _ = suggest("minimum/10", lrs, losses, 40)
    assert lr == pytest.approx(lrs[29] / 10) and index == 21  # 10 ** (1/8) per point: 8 back
    losses[20] = float("nan")
    assert suggest("minimum/10", lrs, losses, 40)[0] == pytest.approx(lrs[19] / 10)
    assert suggest("valley", lrs, [1.0] * 8, 40) is None  # nothing left after the window


# measured with lightdsl's (and Lightning's) search on the shipped specs: steepest, valley,
# minimum/10; the steepest slope sits where the loss is still flat on all three
EXPECTED = {"iris_csv": (8.31764e-07, 0.0120226, 0.0398107),
            "digits_mlp": (1.58489e-05, 0.0120226, 0.0158489),
            "statquest": (0.00213796, 0.102329, 0.0707946)}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def searched(request):
    if request.param == "digits_mlp":
        pytest.importorskip("sklearn")
    experiment = lightdsl.load(os.path.join(SPECS, f"{request.param}.lit"))
    return request.param, run_lr_find(experiment)


def test_each_rule_on_the_shipped_specs(searched):
    name, result = searched
    steepest, valley, minimum = EXPECTED[name]
    assert result.rule == "steepest"
    assert result.suggestion() == pytest.approx(steepest, rel=1e-5)  # Lightning's, unchanged
    assert result.suggestion(rule="valley") == pytest.approx(valley, rel=1e-5)
    assert result.suggestion(rule="minimum/10") == pytest.approx(minimum, rel=1e-5)
    here, start = result.flat_at_suggestion()
    result.suggestion()
    lowest = min(x for x in result.losses[10:] if math.isfinite(x))
    assert here == result.losses[result.optimal_index]
    assert start - 0.02 * (start - lowest) <= here <= start  # fallen by under 2% of the fall
    assert result.flat_at_suggestion("valley") is None
    assert result.flat_at_suggestion("minimum/10") is None


def test_a_flat_suggestion_is_warned_about_with_the_other_rules(searched, capsys):
    name, result = searched
    _, valley, minimum = EXPECTED[name]
    assert report_suggestion(result, 0.01) == result.suggestion()
    out = capsys.readouterr().out
    assert "has not yet fallen below its start" in out, out
    assert f'suggestion = "valley" gives {valley:.3g}' in out
    assert f'suggestion = "minimum/10" gives {minimum:.3g}' in out
    result.rule = "valley"
    report_suggestion(result, 0.01)
    out = capsys.readouterr().out
    assert f"suggested learning rate {valley:.6g} (valley rule)" in out and "warning" not in out


def test_statquest_trains_with_the_valley_suggestion(tmp_path, capsys):
    """The spec's lr_find(suggestion = "valley"): the tutorial's 34 epochs now fit the bias."""
    with open(os.path.join(SPECS, "statquest.lit")) as f:
        text = f.read()
    text = text.replace("early_stop_threshold = none)",
                        'early_stop_threshold = none, suggestion = "valley")')
    text = text.replace("max_epochs  = 2000", "max_epochs  = 34")
    spec = tmp_path / "sq.lit"
    spec.write_text(text)
    code = main(["train", str(spec), "--default-root-dir", str(tmp_path),
                 "--set", "train.enable_progress_bar=false"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "suggested learning rate 0.102329 (valley rule)" in out and "warning" not in out
    bias = float(out.split("final_bias = ")[1].split()[0])
    assert bias == pytest.approx(-16.0, abs=0.05), out  # the 2000-epoch fit, in 34 epochs


def test_lr_find_command_takes_a_rule(capsys, tmp_path):
    out_png = tmp_path / "curve.png"
    code = main(["lr-find", os.path.join(SPECS, "statquest.lit"), "--suggestion", "minimum/10",
                 "-o", str(out_png)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "suggested learning rate 0.0707946 (minimum/10 rule)" in out


@pytest.mark.parametrize("target", ["torch", "lightning"])
def test_generated_scripts_suggest_with_the_specs_rule(tmp_path, monkeypatch, capsys, target):
    """lr_find(suggestion = "valley") in both targets: the torch script's RangeTest and the
    Lightning script (fastai's rule on Tuner.lr_find's curve) pick what lightdsl picks."""
    if target == "lightning":
        pytest.importorskip("pytorch_lightning")
    from tests.helpers.scripts import load_script, write_script

    with open(os.path.join(SPECS, "statquest.lit")) as f:
        text = f.read().replace("early_stop_threshold = none)",
                                'early_stop_threshold = none, suggestion = "valley")')
    spec = tmp_path / "sq.lit"
    # 20 epochs of 3 steps: Lightning's search would stop at max_epochs (its issue #16561);
    # the Lightning script gives it a Trainer without, and it runs all 100 steps, as lightdsl's
    spec.write_text(text.replace("max_epochs  = 2000", "max_epochs  = 20"))
    script = load_script(write_script(spec, tmp_path / f"sq_{target}.py", target=target),
                         f"sq_valley_{target}")
    monkeypatch.chdir(tmp_path)
    if target == "torch":
        script.main()
        assert "lr_find: suggested learning rate 0.1023292992" in capsys.readouterr().out
    else:
        model = script.main(logger=False, enable_checkpointing=False,
                            enable_progress_bar=False, enable_model_summary=False)
        assert model.learning_rate == pytest.approx(0.102329, rel=1e-5)
