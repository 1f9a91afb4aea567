"""``pinpoint-etl map init SOURCE``: draft a mapping spec from a file's header and a sample of its values."""

from __future__ import annotations

from pathlib import Path

import typer

from pinpoint_etl.flows.params import SourceParams, default


def draft_for(uri: str, delimiter: str, encoding: str, fmt: str, sample: int) -> str:
    """The draft spec (YAML text) for the source ``uri``, from its header and first ``sample`` rows."""
    from pinpoint_etl.core.catalogue import META_COLS, base_name
    from pinpoint_etl.sources.malformed import MalformedBatch
    from pinpoint_etl.sources.options import ReadOptions
    from pinpoint_etl.sources.read import read_header, read_tables
    from pinpoint_etl.transforms.spec_draft import classify, draft

    options = ReadOptions(delimiter=delimiter, encoding=encoding, format=fmt, chunk_rows=sample)
    header = read_header(uri, options)
    tables = read_tables(uri, options)
    try:
        first = next((t for t in tables if not isinstance(t, MalformedBatch)), None)
    finally:
        tables.close()
    columns = []
    for name in header:
        if name in META_COLS or base_name(name) != name:  # a repeated column's slots follow its first
            continue
        raw = first.column(name).to_pylist() if first is not None and name in first.column_names else []
        columns.append(classify(name, [v.strip() for v in raw if v is not None and v.strip()][:sample]))
    return draft(columns, uri)


def register(app: typer.Typer, *, guard) -> None:
    """Add the ``map`` command group to the CLI; ``guard`` runs a command with the CLI's one-line errors
    and exit codes (passed in, so this module does not import the CLI's)."""
    map_app = typer.Typer(no_args_is_help=True, help="Mapping specs: how the rows of a CRM or app export "
                                                     "become endpoints.")
    app.add_typer(map_app, name="map")

    @map_app.command("init")
    def map_init(
        source: str = typer.Argument(..., help="A CSV or JSON file (local, s3://, http(s)://) to draft the spec from."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Write the draft here (default: print it)."),
        sample: int = typer.Option(1000, "--sample", min=1, help="Rows sampled to recognise the columns."),
        delimiter: str = typer.Option(default(SourceParams, "delimiter"), "--delimiter", "-d", help="CSV delimiter."),
        encoding: str = typer.Option(default(SourceParams, "encoding"), "--encoding", help="Source text encoding."),
        fmt: str = typer.Option(default(SourceParams, "format"), "--format", help="auto (by extension), csv, json or ndjson."),
        force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
    ):
        """Draft a mapping spec (YAML) from SOURCE's header and sampled values: email, phone, country,
        time-zone and id columns are recognised by content. Edit it, then pass it as --mapping-file."""
        from pinpoint_etl.core.errors import ConfigError

        def go() -> None:
            if out is not None and out.exists() and not force:
                raise ConfigError(f"{out} exists: pass --force to overwrite it")
            text = draft_for(source, delimiter, encoding, fmt, sample)
            if out is None:
                typer.echo(text, nl=False)
            else:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(text, encoding="utf-8")
                typer.echo(f"wrote {out}: check it, then pass it as --mapping-file", err=True)

        guard(go)
