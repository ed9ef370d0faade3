"""The options every verb that reads a lead history shares beyond `--history` and `--mapping`:
`--preset` (a CRM's export as it comes, by the mapping shipped for it) and `--timezone` (the
zone of the export's times written without an offset).

Kept apart from each verb so that `evaluate`, `diff`, `calibrate` read a Salesforce or HubSpot
export the same way, with the same messages.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sla_dsl.language.plain_words import counted

if TYPE_CHECKING:
    from sla_dsl.history.columns import History

PRESET_NAMES = ("salesforce", "hubspot")  # sla_dsl.history.presets.PRESETS, without its imports
EXAMPLE_FILES = {"salesforce": "Lead.csv LeadHistory.csv Task.csv Event.csv User.csv",
                 "hubspot": "contacts.csv property_history.csv engagements.csv "
                            "engagement_contacts.csv owners.csv"}


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=PRESET_NAMES,
                        help="read a CRM's export as it comes, with the mapping shipped for it: "
                             "the files given to --history are matched to its objects by name "
                             "(salesforce: Lead.csv, LeadHistory.csv, Task.csv, Event.csv, "
                             "User.csv; hubspot: contacts.csv, property_history.csv, "
                             "engagements.csv, engagement_contacts.csv, owners.csv)")
    parser.add_argument("--timezone", metavar="ZONE",
                        help="the time zone of the export's times written without an offset "
                             "(a HubSpot portal's, a Salesforce user's report); default: the "
                             "policy's")


def mapping_of(args: argparse.Namespace):
    """The mapping the options name (`--mapping` or `--preset`), or None. Raises MappingError
    (a HistoryError) when both are given or the mapping cannot be used."""
    from sla_dsl.history.mapping import MappingError, load_mapping
    from sla_dsl.history.presets import load_preset

    preset = getattr(args, "preset", None)
    if preset and args.mapping:
        raise MappingError(f"--mapping {args.mapping} and --preset {preset} both name a "
                           f"mapping\n  help: give one: a preset adapted to your CRM is a "
                           f"mapping (--print-mapping writes the preset out to start from)")
    if preset and not args.history:
        raise MappingError(f"--preset {preset} reads the export's files, and none was given\n"
                           f"  help: name them with --history, e.g. --history "
                           f"{EXAMPLE_FILES[preset]} (or folder/*.csv)")
    if preset:
        return load_preset(preset)
    return load_mapping(args.mapping) if args.mapping else None


def files_read(args: argparse.Namespace) -> list[str | None]:
    """The files the history options name (None where an option is not given), for
    `outputs_problem`: a report written over one of them would destroy what it reports on."""
    return [*(args.history or []), getattr(args, "absences", None), getattr(args, "reps", None),
            args.mapping]


def export_timezone(args: argparse.Namespace) -> str | None:
    """`--timezone`, checked: an unknown zone is a HistoryError naming the option."""
    zone = getattr(args, "timezone", None)
    if zone is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from sla_dsl.history.columns import HistoryError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HistoryError(f"--timezone {zone!r} is not a time zone\n  help: use an IANA name "
                           f"such as Europe/Amsterdam, America/New_York or UTC") from None
    return zone


def reading(args: argparse.Namespace) -> str:
    """What is being read, for progress messages."""
    given = ", ".join(args.history or [])
    if given:
        return given
    return f"the {args.preset} export" if getattr(args, "preset", None) else \
        "the files the mapping names"


def add_absences_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--absences", metavar="FILE",
                        help="who is absent when: a CSV of rep,start,end[,reason] (ISO dates "
                             "for whole days, date-times for part of a day); blocks that say "
                             "'when owner absent pause' stop a lead's clocks while its owner "
                             "is absent")


SHOWN_SIDE_REJECTS = 10  # `--show-rejects`' default, for the commands that have no such option


def absence_lines(history: History, shown: int = SHOWN_SIDE_REJECTS) -> list[str]:
    """What the absences file gave: its first `shown` rejected rows with their numbers, then
    its counts."""
    return _side_file_lines(history.absences, "absence", "absences", shown=shown)


def add_reps_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reps", metavar="FILE",
                        help="each rep's own calendar: a CSV of rep,timezone,hours (hours like "
                             "'mon-fri 09:00-17:00', several rows per rep add up); blocks that "
                             "say 'clocks run on owner hours' count a lead's business time on "
                             "its owner's hours, the calendar's holidays and closed dates "
                             "still closed")


def reps_lines(history: History, shown: int = SHOWN_SIDE_REJECTS) -> list[str]:
    """What the reps file gave: its first `shown` rejected rows with their numbers, then its
    counts."""
    reps = history.reps
    if reps is None:
        return []
    known = len(reps.hours)
    return _side_file_lines(reps, "rep", "reps", f"; {known} rep{'' if known == 1 else 's'}",
                            shown)


def _side_file_lines(side, row_word: str, file_word: str, tail: str = "",
                     shown: int = SHOWN_SIDE_REJECTS) -> list[str]:
    """A file read beside the history (absences, reps): its first `shown` rejected rows, then
    its counts, said the same way for each (a file of junk listed all of its 111,475 rows)."""
    if side is None:
        return []
    counts = side.counts
    lines = [f"{side.source}:{r.row}: rejected {row_word}: {r.reason}"
             for r in side.rejects[:shown]]
    if len(side.rejects) > shown:
        lines.append(f"... {len(side.rejects) - shown} more rejected {file_word} rows; write "
                     "them all with sla evaluate --rejects FILE")
    return [*lines, f"{file_word}: {counted(counts.read, 'row', grouped=False)} read, "
                    f"{counts.accepted} accepted, {counts.rejected} rejected{tail}"]


def strict_failure(history: History) -> str | None:
    """What `--strict` fails on, or None: rejected rows of the history, the absences file and
    the reps file alike, since any of them leaves a lead judged on less than the files said."""
    files = [(history.counts.rejected, "history")]
    files += [(side.counts.rejected, what) for side, what in
              ((history.absences, "absences"), (history.reps, "reps")) if side is not None]
    total = sum(n for n, _ in files)
    if not total:
        return None
    named = [f"{n} {what}" for n, what in files if n]
    said = f" ({', '.join(named)})" if total != files[0][0] else ""
    return f"{counted(total, 'row', grouped=False)} rejected{said} (--strict)"
