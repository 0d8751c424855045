"""`lightdsl predict` on trained checkpoints: CSV/npz/pt in, CSV/npz out, class names back."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
import torch

from lightdsl.cli import main
from lightdsl.deploy import load_trained


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_statquest_predictions_are_the_checkpoint_outputs(in_trained, capsys):
    (in_trained / "doses.csv").write_text("dose\n0.0\n0.5\n1.0\n0.25\n")
    code, out, err = run_cli(capsys, "predict", "statquest.lit", "--ckpt", "last",
                             "--input", "doses.csv")
    assert code == 0, err
    predicted = [float(r["prediction"]) for r in rows(out)]
    module = load_trained("statquest.lit", "last").module
    expected = module(torch.tensor([0.0, 0.5, 1.0, 0.25])).tolist()
    assert predicted == pytest.approx(expected, abs=1e-5)
    assert predicted[:3] == pytest.approx([0.0, 1.0, 0.0], abs=1e-2)  # the fitted curve


def test_classifier_predictions_restore_class_names(in_trained, capsys):
    lines = (in_trained / "data" / "iris_like.csv").read_text().splitlines()
    (in_trained / "new.csv").write_text("\n".join(lines[:21]) + "\n")  # with the label column
    code, out, err = run_cli(capsys, "predict", "iris_csv.lit", "--ckpt", "last", "-i", "new.csv")
    assert code == 0, err
    table = rows(out)
    truth = [line.split(",")[-1] for line in lines[1:21]]
    assert [r["prediction"] for r in table] == truth  # a well-trained net, on training rows
    names = sorted(set(truth))
    assert list(table[0]) == ["prediction", *[f"prob_{n}" for n in names]]
    assert sum(float(table[0][f"prob_{n}"]) for n in names) == pytest.approx(1.0, abs=1e-4)


def test_npz_out_and_features_only_csv_in(in_trained, capsys):
    lines = (in_trained / "data" / "iris_like.csv").read_text().splitlines()[:6]
    (in_trained / "features.csv").write_text(
        "\n".join(",".join(line.split(",")[:4]) for line in lines) + "\n")
    code, _, err = run_cli(capsys, "predict", "iris_csv.lit", "--ckpt", "last",
                           "-i", "features.csv", "-o", "out.npz")
    assert code == 0, err
    saved = np.load(in_trained / "out.npz")
    assert list(saved["prediction"]) == [line.split(",")[-1] for line in lines[1:]]
    assert saved["probabilities"].shape == (5, 3) and len(saved["classes"]) == 3


@pytest.mark.parametrize("kind", ["npz", "pt", "flat_csv"])
def test_mlp_inputs_from_npz_pt_and_flattened_csv(in_trained, capsys, kind):
    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    if kind == "npz":
        path = "images.npz"
        np.savez(in_trained / path, x=images.numpy())
    elif kind == "pt":
        path = "images.pt"
        torch.save(images, in_trained / path)
    else:
        path = "images.csv"
        flat = images.reshape(4, -1).tolist()
        text = ",".join(f"p{i}" for i in range(784)) + "\n"
        text += "".join(",".join(f"{v:.9g}" for v in row) + "\n" for row in flat)
        (in_trained / path).write_text(text)
    code, out, err = run_cli(capsys, "predict", "mlp.lit", "--ckpt", "last", "-i", path)
    assert code == 0, err
    module = load_trained("mlp.lit", "last").module
    logits = module((images - 0.5) / 0.25)  # the spec's normalize, applied by predict
    assert [int(r["prediction"]) for r in rows(out)] == logits.argmax(1).tolist()
    probs = [float(rows(out)[0][f"prob_{j}"]) for j in range(10)]
    assert probs == pytest.approx(logits.softmax(1)[0].tolist(), abs=1e-5)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--ckpt", "missing.ckpt", "-i", "doses.csv"], 2, "no such checkpoint file"),
        (["--ckpt", "doses.csv", "-i", "doses.csv"], 2, "cannot read checkpoint doses.csv"),
        (["--ckpt", "last", "-i", "nothing.csv"], 2, "--input nothing.csv: no such file"),
        (["--ckpt", "last", "-i", "doses.txt"], 2, "unknown file type '.txt'"),
        (["--ckpt", "last", "-i", "bad.csv"], 1, "bad.csv:3: non-numeric value 'abc'"),
        (["--ckpt", "last", "-i", "wide.csv"], 1,
         ("each sample has 2 values, but the model was trained on samples of 1 value")),
        (["--ckpt", "last", "-i", "doses.csv", "-o", "out.txt"], 2, "use .csv or .npz"),
    ],
)
def test_predict_errors_are_one_clear_message(in_trained, capsys, argv, code, message):
    (in_trained / "doses.csv").write_text("dose\n0.5\n")
    (in_trained / "doses.txt").write_text("0.5\n")
    (in_trained / "bad.csv").write_text("dose\n0.5\nabc\n")
    (in_trained / "wide.csv").write_text("dose,other\n0.5,1\n")
    got, out, err = run_cli(capsys, "predict", "statquest.lit", *argv)
    assert got == code
    assert message in err
    assert "Traceback" not in err and not out


def test_a_checkpoint_of_another_spec_is_refused(in_trained, capsys):
    other = min(in_trained.glob("lightning_logs/iris_csv/version_*/checkpoints/last.ckpt"))
    (in_trained / "doses.csv").write_text("dose\n0.5\n")
    code, _, err = run_cli(capsys, "predict", "statquest.lit", "--ckpt", str(other),
                           "-i", "doses.csv")
    assert code == 2
    assert "does not fit the model of statquest.lit: w00 is missing from the checkpoint" in err
    assert "the checkpoint has layers.0.weight, this model does not" in err


def test_output_dash_writes_csv_to_stdout(in_trained, capsys):
    """`predict --output -` said "unknown file type '(none)'" (issue 16 item 11)."""
    lines = (in_trained / "data" / "iris_like.csv").read_text().splitlines()
    (in_trained / "new.csv").write_text("\n".join(lines[:4]) + "\n")
    args = ("predict", "iris_csv.lit", "--ckpt", "last", "-i", "new.csv")
    code, plain, _ = run_cli(capsys, *args)
    assert code == 0
    code, dashed, err = run_cli(capsys, *args, "--output", "-")
    assert code == 0, err
    assert dashed == plain and len(rows(dashed)) == 3 and "wrote" not in err


def test_zero_input_samples_is_a_data_error(in_trained, capsys):
    """An .npz of 0 samples crashed in reshape (issue 16 item 18)."""
    np.savez(in_trained / "empty.npz", x=np.zeros((0, 4), dtype=np.float32))
    code, out, err = run_cli(capsys, "predict", "iris_csv.lit", "--ckpt", "last",
                             "-i", "empty.npz")
    assert code == 1 and out == ""
    assert "empty.npz: no input samples to predict (0 rows)" in err
    assert "Traceback" not in err
