"""The precompiled decoding graph: built with OpenFst's real tools, used by default once compiled, left
out where a runtime grammar needs the lookahead halves, and the same recognition as those halves."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.voice import static_graph as sg
from bot.voice.asr import (Recognizer, StaticGraphMissingError, endpoint_overlay, load_model, model_overrides,
                           static_graph_for)
from bot.voice.audio_io import Silence, scripted_frames
from bot.voice.settings import VoiceSettings
from tests.support.servers import REPO_ROOT

TOOLS = sg.find_tools()
needs_tools = pytest.mark.skipif(TOOLS is None, reason=f"OpenFst tools missing: {sg.INSTALL_HINT}")


def fst(tmp: Path, name: str, text: str, *extra: str) -> Path:
    """An FST compiled from AT&T text with the real fstcompile."""
    path = tmp / name
    subprocess.run(["fstcompile", *extra, "-", str(path)], input=text.encode(), check=True, env=TOOLS.env())
    return path


def toy_lookahead_model(tmp: Path) -> Path:
    """A model directory whose graph is built as Kaldi builds a lookahead one: HCL converted to the
    olabel_lookahead type (its output labels relabelled), G's input labels relabelled the same way.
    HCL reads transition ids 1 2 3 as the words 10 11, with the disambiguation id 7 on the way."""
    model = tmp / "toy-model"
    graph = model / "graph"
    graph.mkdir(parents=True)
    work = tmp / "work"
    work.mkdir()
    hcl = fst(work, "HCL.fst", "0 1 1 10\n1 2 7 0\n2 3 2 0\n3 4 3 11\n4\n")
    words = work / "words.txt"
    words.write_text("<eps> 0\nhello 10\nworld 11\nother 12\n")
    g = fst(work, "G.fst", "0 1 hello hello\n1 2 world world\n0 2 other other\n2\n", f"--isymbols={words}", f"--osymbols={words}",
            "--keep_isymbols", "--keep_osymbols")
    env = TOOLS.env()
    subprocess.run(["fstarcsort", "--sort_type=olabel", str(hcl), str(work / "HCLs.fst")], check=True, env=env)
    subprocess.run(["fstconvert", "--fst_type=olabel_lookahead", f"--save_relabel_opairs={work / 'relabel'}",
                    str(work / "HCLs.fst"), str(graph / "HCLr.fst")], check=True, env=env)
    relabelled = subprocess.run(["fstrelabel", f"--relabel_ipairs={work / 'relabel'}", str(g)], check=True,
                                capture_output=True, env=env).stdout
    subprocess.run(["fstarcsort", "--sort_type=ilabel", "-", str(graph / "Gr.fst")], input=relabelled, check=True,
                   env=env)
    (graph / "disambig_tid.int").write_text("7\n")
    return model


def words_out(hclg: Path, tmp: Path, transition_ids: list[int]) -> str:
    """The word labels HCLG puts out for a sequence of transition ids."""
    line = "".join(f"{i} {i + 1} {tid} {tid}\n" for i, tid in enumerate(transition_ids)) + f"{len(transition_ids)}\n"
    source = fst(tmp, "input.fst", line)
    env = TOOLS.env()
    composed = subprocess.run(["fstcompose", str(source), str(hclg)], check=True, capture_output=True, env=env).stdout
    projected = subprocess.run(["fstproject", "--project_type=output"], input=composed, check=True, capture_output=True,
                               env=env).stdout
    clean = subprocess.run(["fstrmepsilon"], input=projected, check=True, capture_output=True, env=env).stdout
    printed = subprocess.run(["fstprint"], input=clean, check=True, capture_output=True, env=env).stdout.decode()
    return " ".join(row.split("\t")[2] for row in printed.splitlines() if len(row.split("\t")) >= 4)


@needs_tools
def test_the_halves_compose_into_one_graph_with_the_words_and_without_disambiguation_ids(tmp_path) -> None:
    model = toy_lookahead_model(tmp_path)
    lines: list[str] = []
    place = sg.compile_graph(model, tmp_path / "graphs", progress=lines.append)
    assert place == sg.compiled_graph(model, tmp_path / "graphs")
    assert words_out(place / "HCLG.fst", tmp_path, [1, 2, 3]) == "10 11"  # 7 became epsilon
    assert words_out(place / "HCLG.fst", tmp_path, [1, 7, 2, 3]) == ""  # no longer a way through
    assert "hello 10" in (place / "words.txt").read_text().replace("\t", " ")
    assert any("2/3" in line for line in lines)  # long work says where it is
    assert staging_dirs(tmp_path / "graphs") == []
    # The downloaded model is never written to.
    assert sorted(p.name for p in (model / "graph").iterdir()) == ["Gr.fst", "HCLr.fst", "disambig_tid.int"]


def staging_dirs(graphs: Path) -> list[Path]:
    return [path for path in graphs.iterdir() if path.is_dir() and path.name.startswith(".")]


@needs_tools
def test_a_compiled_graph_is_compiled_once_and_again_when_the_model_changes(tmp_path) -> None:
    model = toy_lookahead_model(tmp_path)
    first = sg.compile_graph(model, tmp_path / "graphs", progress=lambda _: None)
    said: list[str] = []
    assert sg.compile_graph(model, tmp_path / "graphs", progress=said.append) == first
    assert said and "already compiled" in said[0]
    (model / "graph" / "disambig_tid.int").write_text("7\n\n")  # a different model at the same place
    assert sg.compiled_graph(model, tmp_path / "graphs") is None
    second = sg.compile_graph(model, tmp_path / "graphs", progress=lambda _: None)
    assert second != first and sg.compiled_graph(model, tmp_path / "graphs") == second


@needs_tools
def test_what_a_killed_compile_left_is_cleared_by_the_next(tmp_path) -> None:
    model = toy_lookahead_model(tmp_path)
    graphs = tmp_path / "graphs"
    key = sg.graph_key(model)
    (graphs / f".{key}-killed").mkdir(parents=True)
    (graphs / f".{key}-killed" / "HCLG.fst").write_bytes(b"\x00" * 1024)
    (graphs / key).mkdir()  # a directory without its manifest is not a compiled graph
    assert sg.compiled_graph(model, graphs) is None
    place = sg.compile_graph(model, graphs, progress=lambda _: None)
    assert place == graphs / key and (place / sg.MANIFEST).is_file()
    assert staging_dirs(graphs) == []


def test_without_the_tools_the_error_says_what_to_install(tmp_path, monkeypatch) -> None:
    model = tmp_path / "m"
    (model / "graph").mkdir(parents=True)
    for name in sg.LOOKAHEAD_FILES:
        (model / "graph" / name).write_text("x")
    monkeypatch.setattr(sg, "find_tools", lambda: None)
    with pytest.raises(sg.GraphCompileError, match="apt-get install libfst-tools"):
        sg.compile_graph(model, tmp_path / "graphs", progress=lambda _: None)


def test_a_model_without_lookahead_halves_has_nothing_to_compile(tmp_path) -> None:
    model = tmp_path / "static-model"
    (model / "graph").mkdir(parents=True)
    (model / "graph" / "HCLG.fst").write_text("x")
    with pytest.raises(sg.GraphCompileError, match="static already"):
        sg.compile_graph(model, tmp_path / "graphs", progress=lambda _: None)


@needs_tools
def test_a_failing_composition_is_reported_and_leaves_nothing(tmp_path) -> None:
    model = toy_lookahead_model(tmp_path)
    (model / "graph" / "HCLr.fst").write_bytes(b"\x00" * 64)  # the language model reads, HCL does not
    with pytest.raises(sg.GraphCompileError, match=r"fstcompose failed .*Check free memory and disk space"):
        sg.compile_graph(model, tmp_path / "graphs", progress=lambda _: None)
    assert sg.compiled_graph(model, tmp_path / "graphs") is None
    assert staging_dirs(tmp_path / "graphs") == [] and not (tmp_path / "graphs" / sg.graph_key(model)).exists()


def test_an_unwritable_graph_directory_is_a_clear_error(tmp_path) -> None:
    model = tmp_path / "m"
    (model / "graph").mkdir(parents=True)
    for name in sg.LOOKAHEAD_FILES:
        (model / "graph" / name).write_text("x")
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    with pytest.raises(sg.GraphCompileError, match="writable"):
        sg.compile_graph(model, blocked / "graphs", progress=lambda _: None, tools=sg.FstTools(Path("/usr/bin"), tmp_path))


# -- the Korean test model, compiled by make setup ------------------------------------------------------
def settings_for(model_dir: Path, **changes) -> VoiceSettings:
    return VoiceSettings.from_env({}).with_overrides(model_dir=model_dir, **changes)


@pytest.fixture(scope="module")
def korean_graph(korean_model_dir) -> Path:
    compiled = sg.compiled_graph(korean_model_dir, settings_for(korean_model_dir).graphs_dir)
    if compiled is None:
        pytest.fail("the Korean test model's static graph is not compiled: run make setup (make graphs)")
    return compiled


def hear(model, speech: bytes) -> str:
    recognizer = Recognizer(model, 16000)
    frames = scripted_frames([Silence(0.3), speech, Silence(1.0)], 16000)
    texts = [h.text for frame in frames if (h := recognizer.accept(frame)) and h.final and h.text]
    return " ".join(texts + [recognizer.finish()]).strip()


def test_calls_decode_with_the_compiled_graph_and_hear_what_the_lookahead_graph_hears(
        korean_model_dir, korean_graph, hello_16k) -> None:
    settings = settings_for(korean_model_dir)
    assert static_graph_for(settings) == korean_graph
    static_model = load_model(settings)
    lookahead_model = load_model(settings.with_overrides(graph="lookahead"))
    assert static_model is not lookahead_model
    overlay_graph = endpoint_overlay(korean_model_dir, model_overrides(settings), settings.var_dir,
                                     static_graph=korean_graph) / "graph"
    assert (overlay_graph / "HCLG.fst").resolve() == (korean_graph / "HCLG.fst").resolve()
    assert not (overlay_graph / "HCLr.fst").exists() and not (overlay_graph / "Gr.fst").exists()
    heard = hear(static_model, hello_16k)
    assert heard and heard == hear(lookahead_model, hello_16k)


def test_a_grammar_keeps_the_lookahead_graph(korean_model_dir, korean_graph, tmp_path) -> None:
    grammar = tmp_path / "phrases.txt"
    grammar.write_text("안녕하세요\n")
    assert static_graph_for(settings_for(korean_model_dir, grammar_file=grammar)) is None
    assert static_graph_for(settings_for(korean_model_dir), runtime_grammar=True) is None
    assert static_graph_for(settings_for(korean_model_dir, graph="lookahead")) is None


def test_static_required_but_not_compiled_names_the_command(korean_model_dir, tmp_path) -> None:
    settings = settings_for(korean_model_dir, graph="static", graphs_dir=tmp_path / "none")
    with pytest.raises(StaticGraphMissingError, match="python -m bot model compile-graph"):
        load_model(settings)
    assert static_graph_for(settings.with_overrides(graph="auto")) is None  # auto falls back


def test_the_command_finds_the_graph_compiled_already(korean_model_dir, korean_graph) -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "model", "compile-graph", "--model", str(korean_model_dir)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "already compiled" in done.stdout and str(korean_graph) in done.stdout


def test_the_command_on_a_missing_model_says_how_to_get_one(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "model", "compile-graph", "--model", str(tmp_path / "nothing")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "python -m bot model download" in done.stderr


def test_a_grammar_on_the_compiled_graph_is_refused_not_silently_ignored(korean_model_dir, korean_graph,
                                                                          tmp_path) -> None:
    settings = settings_for(korean_model_dir)
    with pytest.raises(ValueError, match="runtime_grammar=True"):
        Recognizer(load_model(settings), 16000, '["안녕하세요"]')
    Recognizer(load_model(settings, runtime_grammar=True), 16000, '["안녕하세요"]').close()  # taken
