"""The documentation stays true: the language reference lists every diagnostic code and its
examples parse; every `sla` command shown in README.md and docs/ is one the command line
accepts, on files that are shipped; every option of every command is documented, and every
option a page documents exists; the diagnostics a page shows are what `sla check` prints; and
every link between the pages leads somewhere."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from sla_dsl.catalogue import CATALOGUE
from sla_dsl.cli import build_parser, main
from sla_dsl.diagnostics.diagnostic import Reporter
from sla_dsl.language.parser import BLOCK_OF_ITEM, STAND_IN_HEADERS
from sla_dsl.language.source import Source
from sla_dsl.policy_file import check_text, parse_policy

from .conftest import FIXTURES, ROOT

DOC = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```sla\n(.*?)```", DOC, re.DOTALL)


def test_the_reference_table_is_the_catalogue_in_code_order():
    """The table between the markers has one row per code of the catalogue, no other; its code,
    name and summary are the catalogue's (the typical fix is the documentation's own)."""
    table = DOC.split("<!-- BEGIN CODES -->\n", 1)[1].split("<!-- END CODES -->", 1)[0]
    rows = [line.split(" | ")[:3] for line in table.splitlines()[2:]]
    assert rows == [[f"| {c.code}", f"`{c.name}`", c.summary] for c in CATALOGUE]


def test_the_reference_has_examples():
    assert len(EXAMPLES) >= 40


def _parses(text: str) -> bool:
    return parse_policy(Source("doc.sla", text), Reporter("doc.sla")) is not None


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.split("\n")[0][:40])
def test_example_parses_alone_or_inside_its_block(example):
    if _parses(example):
        return
    first_word = example.split()[0]
    block = STAND_IN_HEADERS[BLOCK_OF_ITEM[first_word]]
    assert _parses(f"{block}\n{example}\n}}\n")


# ---------------------------------------------------------------- the other pages' examples

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
RULE_PAGES = {ROOT / "docs" / "rules" / f"{c.code}.md" for c in CATALOGUE}  # test_lint_rules
OTHER_EXAMPLES = [(page, block) for page in PAGES
                  if page.name != "language.md" and page not in RULE_PAGES
                  for block in re.findall(r"```sla\n(.*?)```", page.read_text(encoding="utf-8"),
                                          re.DOTALL)]


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize(("page", "example"), OTHER_EXAMPLES,
                         ids=[_page_id(page) for page, _ in OTHER_EXAMPLES])
def test_the_examples_of_the_other_pages_parse(page, example):
    assert _parses(example), _page_id(page)


def test_the_readme_policy_is_a_clean_agreement():
    """README's "What a policy looks like" is a whole policy, not a fragment."""
    (policy,) = [block for page, block in OTHER_EXAMPLES if page == ROOT / "README.md"]
    checked = check_text(policy)
    assert checked.ok and checked.diagnostics == []


# ---------------------------------------------------------------- the commands shown

def _shell_lines(page: Path) -> list[str]:
    """The shell lines of a page's `bash` blocks and of its plain blocks' `$ ` prompts, each
    continued line joined and each comment dropped."""
    text = page.read_text(encoding="utf-8")
    lines = []
    for language, block in re.findall(r"```(\w*)\n(.*?)```", text, re.DOTALL):
        if language not in ("bash", ""):
            continue
        block = re.sub(r"\\\n\s*", " ", block)
        for line in block.splitlines():
            if language == "":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            lines.append(re.sub(r"(^|\s)#.*$", "", line).strip())
    return lines


def _sla_commands(page: Path) -> list[list[str]]:
    """Each `sla ...` command of a page's shell lines, as the arguments after `sla`; a line's
    pipes, `&&` and `;` end a command, and a redirection ends its arguments."""
    commands = []
    for line in _shell_lines(page):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        for word in [*lexer, ";"]:
            if word in ("&&", "||", "|", ";"):
                if command[:1] == ["sla"]:
                    commands.append(command[1:])
                command = []
            elif word.startswith((">", "<")):
                command.append(None)  # what follows is the redirection's
            else:
                command.append(word)
        commands = [c[:c.index(None)] if None in c else c for c in commands]
    return commands


COMMANDS = [(page, command) for page in PAGES for command in _sla_commands(page)]
SHIPPED = ("policies/", "examples/", "tests/fixtures/")


def test_the_pages_show_commands():
    assert len(COMMANDS) >= 60
    assert {command[0] for _, command in COMMANDS} >= {
        "test", "evaluate", "merge", "due", "diff", "explain", "simulate", "calibrate", "ingest"}


@pytest.mark.parametrize(("page", "command"), COMMANDS,
                         ids=[f"{_page_id(p)}: {' '.join(c)}" for p, c in COMMANDS])
def test_every_command_shown_parses_and_its_shipped_files_exist(page, command):
    """The command line accepts it as written (a missing required option, such as `sla ingest`
    without `--timezone`, is a usage error), and each policy, history or scenario it names
    under policies/, examples/ or tests/fixtures/ is shipped (`REV:PATH` names a file at
    REV, whose PATH is read here)."""
    try:
        args = build_parser().parse_args(command)
    except SystemExit as error:
        pytest.fail(f"{_page_id(page)}: sla {' '.join(command)}: usage error {error.code}")
    assert callable(args.run)
    for word in command:
        path = re.sub(r"^[\w/.-]+:(?=policies/)", "", word)
        if path.startswith(SHIPPED):
            assert list(ROOT.glob(path)), f"{_page_id(page)}: {word} is not shipped"


# ---------------------------------------------------------------- the options

def _verbs() -> dict[str, argparse.ArgumentParser]:
    (verbs,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(verbs.choices)


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in _actions(parser) for option in action}


def _actions(parser: argparse.ArgumentParser) -> list[list[str]]:
    """Each option's spellings (`-q`, `--quiet`), help left out."""
    return [action.option_strings for action in parser._actions
            if action.option_strings and "--help" not in action.option_strings]


# Where each command's options are documented beside README's row of it: its own page, and
# the pages of what it does past one run (shards, a cluster).
OPTION_PAGES = {
    "check": ["docs/rules/README.md", "docs/language.md"], "fmt": [], "schema": [],
    "test": ["docs/testing.md"], "merge": ["docs/scale.md"], "plan": ["docs/simulate.md"],
    "evaluate": ["docs/evaluate.md", "docs/scale.md", "docs/cluster.md"],
    "simulate": ["docs/simulate.md", "docs/cluster.md"],
}


def _readme_rows(verb: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return "\n".join(line for line in readme.splitlines() if line.startswith(f"| `sla {verb} "))


@pytest.mark.parametrize("verb", sorted(_verbs()))
def test_every_option_of_a_command_is_documented(verb):
    pages = OPTION_PAGES.get(verb, [f"docs/{verb}.md"])
    text = _readme_rows(verb) + "".join((ROOT / page).read_text(encoding="utf-8")
                                        for page in pages)
    undocumented = [spellings for spellings in _actions(_verbs()[verb])
                    if not any(re.search(rf"`[^`]*{re.escape(option)}(?![\w-])", text)
                               for option in spellings)]
    assert undocumented == [], f"sla {verb}: document them in README or {pages}"


# A page's table of options (a first column `option`) documents the options of one command.
TABLE_PAGES = {"calibrate.md": "calibrate", "diff.md": "diff", "due.md": "due",
               "evaluate.md": "evaluate", "explain.md": "explain", "ingest.md": "ingest",
               "scale.md": "merge", "simulate.md": "simulate", "testing.md": "test"}


def _option_tables(text: str) -> list[str]:
    """The first cells of every table whose header starts `| option |`."""
    cells = []
    for table in re.findall(r"^\| option \|.*?\n((?:\|.*\n)+)", text, re.MULTILINE | re.IGNORECASE):
        cells += [row.split(" | ")[0] for row in table.splitlines()[1:]]
    return cells


@pytest.mark.parametrize(("page", "verb"), sorted(TABLE_PAGES.items()))
def test_every_option_a_page_documents_exists(page, verb):
    cells = _option_tables((ROOT / "docs" / page).read_text(encoding="utf-8"))
    assert cells, page
    named = {option for cell in cells for option in re.findall(r"(?<![\w-])--?[a-z][\w-]*", cell)}
    assert named - _options(_verbs()[verb]) == set(), f"docs/{page}: not options of sla {verb}"


# ---------------------------------------------------------------- the diagnostics shown

def _check_output(capsys, tmp_path, monkeypatch, name: str, text: str) -> str:
    """What `sla check NAME` prints, NAME holding TEXT, run where NAME reads as shown."""
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["check", name]) == 1
    return capsys.readouterr().out


def test_the_reference_shows_what_sla_check_prints(capsys, tmp_path, monkeypatch):
    """The section on reading diagnostics: its policy is the golden fixture, and its output
    what `sla check` prints for it, summary line included."""
    section = DOC.split("This policy, `syntax-and-meaning.sla`", 1)[1]
    policy, output = re.findall(r"```text\n(.*?)```", section, re.DOTALL)[:2]
    fixture = FIXTURES / "errors" / "syntax-and-meaning.sla"
    assert policy == fixture.read_text(encoding="utf-8")
    assert output == _check_output(capsys, tmp_path, monkeypatch, fixture.name, policy)


def test_the_readme_shows_what_sla_check_prints(capsys, tmp_path, monkeypatch):
    """README's diagnostic: Company X's policy with the hot block's `when mql` made `when sqll`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split("A diagnostic reads like this", 1)[1].split("```\n", 2)[1]
    company_x = (ROOT / "policies" / "company-x.sla").read_text(encoding="utf-8")
    typo = company_x.replace("  when mql and score >= 70\n", "  when sqll and score >= 70\n")
    assert typo != company_x
    assert shown == _check_output(capsys, tmp_path, monkeypatch, "policies/company-x.sla", typo)


# ---------------------------------------------------------------- links

def _slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: the text of its links, lower case, punctuation
    but `-` and `_` dropped, each space a `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    prose = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"),
                   flags=re.DOTALL | re.MULTILINE)
    anchors, seen = set(), {}
    for heading in re.findall(r"^#{1,6} +(.*?) *$", prose, re.MULTILINE):
        slug = _slug(heading)
        anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _links(page: Path) -> list[str]:
    prose = re.sub(r"^ *```.*?^ *```", "", page.read_text(encoding="utf-8"),
                   flags=re.DOTALL | re.MULTILINE)
    return [target for target in re.findall(r"\]\(([^)\s]+)\)", prose)
            if not re.match(r"[a-z]+:", target)]


LINKS = [(page, target) for page in PAGES for target in _links(page)]


def test_the_pages_link_to_each_other():
    assert len(LINKS) >= 150


@pytest.mark.parametrize(("page", "target"), LINKS,
                         ids=[f"{_page_id(p)} -> {t}" for p, t in LINKS])
def test_every_link_between_the_pages_resolves(page, target):
    path, _, anchor = target.partition("#")
    destination = (page.parent / path).resolve() if path else page
    assert destination.exists(), f"{_page_id(page)}: {target}: no such file"
    if anchor and destination.suffix == ".md":
        assert anchor in _anchors(destination), f"{_page_id(page)}: {target}: no such heading"
