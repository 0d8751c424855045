"""`lightdsl check` of python("module:Name", ...): found and looked up without importing the
module (nor torch), located errors with did-you-mean, shapes declared or left unknown."""

from __future__ import annotations

from lightdsl.analysis import analyze_file
from tests.helpers.runner import run_code


def errors(path) -> list[tuple[int, int, str]]:
    analysis = analyze_file(str(path))
    return [(d.span.line, d.span.column, d.message) for d in analysis.diagnostics
            if d.severity == "error"]


def layers_spec(package, *layers: str, loss: str = "cross_entropy") -> str:
    """A spec whose layers block holds ``layers`` (one per line, from line 3 on)."""
    return package.layers_spec(*layers, loss=loss)


def test_check_is_clean_and_imports_neither_the_module_nor_torch(package):
    spec = package.spec()
    code = ("import sys\nfrom lightdsl.analysis import analyze_file\n"
            f"analysis = analyze_file({str(spec)!r})\n"
            "assert analysis.ok, [str(d.message) for d in analysis.diagnostics]\n"
            "loaded = [m for m in sys.modules if m.split('.')[0] in "
            f"('torch', {package.name!r})]\n"
            "assert not loaded, loaded\nprint('clean')\n")
    result = run_code(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_missing_module_is_located_with_did_you_mean(package):
    spec = layers_spec(package, "linear(4, 2)", f'python("{package.name}.layrs:Swish")')
    (line, column, message), = errors(spec)
    assert (line, column) == (4, 17)  # the module part inside the string
    assert f'cannot find Python module "{package.name}.layrs"' in message
    assert f'did you mean "{package.name}.layers"?' in message


def test_missing_top_level_package_is_an_error_not_a_crash(package):
    spec = layers_spec(package, "linear(4, 2)", 'python("no_such_package_here:Swish")')
    (line, column, message), = errors(spec)
    assert (line, column) == (4, 17)
    assert 'cannot find Python module "no_such_package_here"' in message


def test_missing_name_is_located_with_did_you_mean(package):
    spec = layers_spec(package, "linear(4, 2)", f'python("{package.name}.layers:Swsh")')
    (line, column, message), = errors(spec)
    assert (line, column) == (4, 17 + len(package.name) + len(".layers:"))  # at "Swsh"
    assert f'Python module "{package.name}.layers" defines no "Swsh"; did you mean "Swish"?' \
        == message


def test_bad_reference_text_is_located_in_the_string(package):
    name = package.name
    spec = layers_spec(package, f'python("{name}.layers.Swish")', f'python("{name}:a:b")',
                       f'python("{name}.la-yers:Swish")', 'python(":Swish")',
                       f'python("{name}.layers:Sw ish")', "python(Swish)")
    found = errors(spec)
    assert [(line, column) for line, column, _ in found] == [
        (3, 17), (4, 17 + len(name) + 2), (5, 17 + len(name) + 1), (6, 17),
        (7, 17 + len(name) + len(".layers:")), (8, 16)]
    assert 'does not say which name' in found[0][2]
    assert 'only one ":"' in found[1][2]
    assert '"la-yers" is not a valid Python module name' in found[2][2]
    assert "the module is missing" in found[3][2]
    assert '"Sw ish" is not a valid Python name' in found[4][2]
    assert "needs the object as a string" in found[5][2]


def test_keywords_are_checked_against_the_class_init(package):
    spec = layers_spec(package, "linear(4, 2)", f'python("{package.name}.layers:Swish", '
                       "bta = 2)", f'python("{package.name}.layers:Halve")')
    (first, second) = errors(spec)
    assert first[:2] == (4, 33 + len(package.name))  # at "bta"
    assert 'Swish.__init__ has no argument "bta"; did you mean "beta"?' == first[2]
    assert second[0] == 5 and 'Halve needs the argument "width"' in second[2]


def test_the_kind_of_object_must_fit_where_it_is_used(package):
    name = package.name
    spec = package.spec(f'''
        model Net {{
            layers {{
                python("{name}.layers:not_a_layer")
                linear(4, 2)
            }}
        }}

        data d {{
            inputs = [[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]]
            labels = [0, 1]
        }}

        train {{
            model = Net
            data = d
            loss = python("{name}.losses:squared", shape = [3])
            metrics = [python("{name}.layers:Swish"), python("{name}.metrics:hits", k = 1)]
        }}
        ''')
    messages = [message for _, _, message in errors(spec)]
    assert '"not_a_layer" is a function, but a python layer must be a torch.nn.Module ' \
        "class" in messages[0]
    assert "shape declares a layer's output; a python loss has none" in messages[1]
    assert '"Swish" is a class, but a python metric must be a function' in messages[2]
    assert "a python metric is called as metric(output, labels) and takes no arguments" \
        in messages[3]


def test_an_undeclared_shape_is_unknown_so_no_false_error(package):
    # Halve(8) really returns 4 features; check cannot know, so linear(4, 3) and even a
    # wrong linear(5, 3) pass check (the build's dry run catches the second one).
    spec = layers_spec(package, "linear(4, 8)", f'python("{package.name}.layers:Halve", '
                       "width = 8)", "linear(5, 3)")
    assert errors(spec) == []


def test_a_declared_shape_flows_on(package):
    spec = layers_spec(package, "linear(4, 8)", f'python("{package.name}.layers:Swish", '
                       'shape = "same")', "linear(5, 3)", f'python("{package.name}.layers:'
                       'Halve", width = 3, shape = [1])', "linear(2, 2)")
    found = errors(spec)
    assert [line for line, _, _ in found] == [5, 7]
    assert "linear expects 5 input features (in_features) but 8 arrive" in found[0][2]
    assert "linear expects 2 input features (in_features) but 1 arrive" in found[1][2]


def test_a_bad_declared_shape_is_located(package):
    spec = layers_spec(package, "linear(4, 8)", f'python("{package.name}.layers:Swish", '
                       'shape = "sme")')
    (line, column, message), = errors(spec)
    assert (line, column) == (4, 41 + len(package.name)) and 'shape must be "same"' in message


def test_a_model_of_python_layers_only_is_not_called_untrainable(package):
    spec = layers_spec(package, f'python("{package.name}.layers:Halve", width = 4)')
    assert errors(spec) == []


def test_a_module_with_a_syntax_error_is_reported_not_raised(package):
    (package.root / package.name / "bad.py").write_text("def f(:\n", encoding="utf-8")
    spec = layers_spec(package, f'python("{package.name}.bad:f")')
    (line, _, message), = errors(spec)
    assert line == 3 and "SyntaxError" in message
