"""Harvesting from where the data lives: HTTP(S) URLs, remote CSV lists and S3 prefixes,
against real servers on loopback (tests/support/servers.py), compared with a local harvest of
the same tree."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from servers import FixtureHttpServer, FixtureS3Server
from typer.testing import CliRunner

from ngff_kg import Catalog
from ngff_kg.cli import app
from ngff_kg.sources.remote import RemoteOptions
from ngff_kg.vocab import NKG, PROV

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "metadata"
BUCKET = "ngff-fixtures"
#: The roots of the example tree, relative to it.
ROOTS = [
    "data.example.org/Example Lab/collections/zebrafish-spim.zarr",
    "data.example.org/Example Lab/images/mouse-brain.ome.zarr",
    "data.example.org/Example Lab/screens/plate-1.ome.zarr",
    "s3.example.net/ngff-public/v0.4/yeast-cells.zarr",
    "s3.example.net/ngff-public/v0.5/em-volume.ome.zarr",
]
#: Provenance that names where and when documents were read: differs between transports.
PROVENANCE = {f"{NKG}metadataSource", f"{NKG}sourceFiles", f"{PROV}wasGeneratedBy"}
FAST = RemoteOptions(concurrency=16, timeout=2.0, retries=3, backoff=0.01)


def quoted(path: str) -> str:
    return path.replace(" ", "%20")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    shutil.copytree(EXAMPLES, copy)
    return copy


@pytest.fixture
def server(tree: Path) -> Iterator[FixtureHttpServer]:
    with FixtureHttpServer(tree) as running:
        # the sample lists name the datasets by their URLs on this server
        for csv in tree.rglob("*.csv"):
            csv.write_text(csv.read_text().replace("https://", running.url))
        yield running


def urls(server: FixtureHttpServer) -> list[str]:
    return [server.url + quoted(root) for root in ROOTS]


def dataset_quads(catalog: Catalog) -> dict[str, set[tuple[str, str, str]]]:
    """Dataset graphs without the provenance of reading (graph IRI → triples)."""
    graphs: dict[str, set[tuple[str, str, str]]] = {}
    for quad in catalog.store.oxigraph.quads_for_pattern(None, None, None, None):
        graph = quad.graph_name
        if not isinstance(graph, ox.NamedNode) or "w3id.org/ngff-kg/" in graph.value:
            continue
        if quad.predicate.value in PROVENANCE:
            continue
        triple = (str(quad.subject), str(quad.predicate), str(quad.object))
        graphs.setdefault(graph.value, set()).add(triple)
    return graphs


def datasets_only(graphs: dict[str, set[tuple[str, str, str]]]) -> dict[str, set]:
    return {iri: triples for iri, triples in graphs.items() if not iri.endswith(".csv")}


def harvest(tmp: Path, name: str, sources: list[str], **kwargs: object) -> Catalog:
    catalog = Catalog(tmp / name)
    kwargs.setdefault("remote", FAST)
    catalog.last_report = catalog.harvest(sources, **kwargs)  # type: ignore[attr-defined,arg-type]
    return catalog


def test_http_s3_and_local_harvests_give_the_same_graph(
    tmp_path: Path, tree: Path, server: FixtureHttpServer
) -> None:
    local = harvest(tmp_path, "local", [str(tree)], base_url=server.url)
    over_http = harvest(tmp_path, "http", urls(server))
    with FixtureS3Server() as s3:
        s3.upload(tree, BUCKET, "mirror/")
        options = RemoteOptions(
            concurrency=16, timeout=5.0, retries=2, endpoint_url=s3.endpoint_url, anonymous=True
        )
        over_s3 = harvest(
            tmp_path, "s3", [f"s3://{BUCKET}/mirror/"], base_url=server.url, remote=options
        )
    for catalog in (local, over_http, over_s3):
        report = catalog.last_report  # type: ignore[attr-defined]
        assert report.ok, report.failed
        assert report.datasets_harvested == len(ROOTS)
    reference = datasets_only(dataset_quads(local))
    assert sorted(reference) == sorted(u + "/" for u in urls(server))
    assert sum(map(len, reference.values())) > 500  # whole hierarchies, crates, OME-XML
    assert datasets_only(dataset_quads(over_http)) == reference
    assert datasets_only(dataset_quads(over_s3)) == reference
    # where each graph was read from is recorded, per transport
    sources = over_http.query(f"SELECT ?s WHERE {{ ?d <{NKG}metadataSource> ?s }}").column("s")
    expected = [u + ("/.zattrs" if "v0.4" in u else "/zarr.json") for u in urls(server)]
    assert sorted(sources) == sorted(expected)
    # the S3 walk also found the sample lists, as the local walk does
    assert over_s3.last_report.sample_lists == local.last_report.sample_lists == 2  # type: ignore[attr-defined]
    for catalog in (local, over_http, over_s3):
        catalog.close()


def test_remote_sample_lists_are_followed_and_their_datasets_harvested(
    tmp_path: Path, tree: Path, server: FixtureHttpServer
) -> None:
    # all_samples.csv lists example_samples.csv (source,url), which lists 4 of the datasets
    catalog = harvest(tmp_path, "lists", [server.url + "raw.example.com/samples/all_samples.csv"])
    report = catalog.last_report  # type: ignore[attr-defined]
    assert report.ok, report.failed
    assert report.sample_lists == 2
    listed = [
        line.split(",", 1)[0]
        for line in (tree / "raw.example.com/samples/example_samples.csv").read_text().splitlines()
        if line.startswith("http")
    ]
    assert report.datasets_harvested == len(listed) == len(ROOTS)
    harvested = set(catalog.query("find-datasets").column("dataset"))
    assert harvested == {u + "/" for u in listed}
    sizes = catalog.query(
        "SELECT ?d ?b WHERE { ?d <http://www.w3.org/ns/dcat#byteSize> ?b }"
    ).values()
    assert {r["d"] for r in sizes} == harvested
    catalog.close()


def test_unchanged_remote_lists_are_not_read_again_and_dropped_rows_are_pruned(
    tmp_path: Path, tree: Path, server: FixtureHttpServer
) -> None:
    top = server.url + "raw.example.com/samples/all_samples.csv"
    catalog = Catalog(tmp_path / "store")
    assert catalog.harvest([top], remote=FAST).datasets_harvested == len(ROOTS)
    server.reset()
    again = catalog.harvest([top], remote=FAST, prune=True)
    assert again.datasets_unchanged == len(ROOTS) and again.datasets_pruned == 0
    assert again.sample_lists == 2
    assert all(r.status in (304, 404) for r in server.requests), server.requests
    # a row removed from the listed list: that dataset goes with --prune, the rest stay
    listed = tree / "raw.example.com/samples/example_samples.csv"
    lines = listed.read_text().splitlines(keepends=True)
    dropped = next(line for line in lines if "yeast-cells" in line)
    listed.write_text("".join(line for line in lines if line is not dropped))
    pruned = catalog.harvest([top], remote=FAST, prune=True)
    assert pruned.datasets_pruned == 1 and pruned.datasets_unchanged == len(ROOTS) - 1
    remaining = set(catalog.query("find-datasets").column("dataset"))
    assert dropped.split(",")[0] + "/" not in remaining and len(remaining) == len(ROOTS) - 1
    catalog.close()


def test_last_modified_is_used_where_there_is_no_etag(
    tree: Path, server: FixtureHttpServer
) -> None:
    from ngff_kg.harvest import process_fetcher

    fetcher = process_fetcher(FAST)
    url = server.url + quoted(ROOTS[1]) + "/zarr.json"
    fetched = fetcher.call(fetcher.aget(url))
    assert fetched.status == "ok" and fetched.validator.startswith('"')  # the ETag
    modified = (tree / ROOTS[1] / "zarr.json").stat().st_mtime
    stamp = dt.datetime.fromtimestamp(int(modified) + 1, dt.UTC).isoformat()
    server.reset()
    assert fetcher.call(fetcher.aget(url, "lm:" + stamp)).status == "not-modified"
    assert [(r.status, r.conditional) for r in server.requests] == [(304, True)]
    earlier = dt.datetime.fromtimestamp(int(modified) - 3600, dt.UTC).isoformat()
    assert fetcher.call(fetcher.aget(url, "lm:" + earlier)).data == fetched.data


def test_reharvest_of_unchanged_datasets_makes_only_conditional_requests(
    tmp_path: Path, tree: Path, server: FixtureHttpServer
) -> None:
    catalog = Catalog(tmp_path / "store")
    first = catalog.harvest(urls(server), remote=FAST)
    assert first.ok and first.datasets_harvested == len(ROOTS)
    full_reads = server.count(status=200)
    assert full_reads >= 2 * len(ROOTS)  # root and crate at least
    server.reset()
    again = catalog.harvest(urls(server), remote=FAST)
    assert again.ok and again.datasets_unchanged == len(ROOTS) and again.datasets_harvested == 0
    requests = server.requests
    assert requests and all(r.status in (304, 404) for r in requests), requests
    assert all(r.conditional for r in requests if r.status == 304)
    assert sum(r.status == 304 for r in requests) == full_reads  # each document asked once
    # one changed document: only its dataset is read again
    level = tree / ROOTS[1] / "0" / "zarr.json"
    level.write_text(level.read_text().replace('"float64"', '"float64" ', 1) + " ")
    server.reset()
    third = catalog.harvest(urls(server), remote=FAST)
    assert third.datasets_harvested == 1 and third.datasets_unchanged == len(ROOTS) - 1
    assert {r.path.split("/zarr.json")[0] for r in server.requests if r.status == 200} >= {ROOTS[1]}
    # --force reads everything again
    server.reset()
    forced = catalog.harvest(urls(server), remote=FAST, force=True)
    assert forced.datasets_harvested == len(ROOTS)
    assert server.count(status=200) == full_reads
    catalog.close()


def test_a_zarr_json_beside_a_recorded_zattrs_is_noticed_remotely(
    tmp_path: Path, tree: Path, server: FixtureHttpServer
) -> None:
    """A Zarr v2 root named by its URL that gains a zarr.json is read again, although its
    recorded documents answer 304 Not Modified."""
    catalog = Catalog(tmp_path / "store")
    assert catalog.harvest(urls(server), remote=FAST).datasets_harvested == len(ROOTS)
    yeast = server.url + quoted(ROOTS[3]) + "/"
    assert catalog.store.source_files()[yeast][0][0] == ".zattrs"
    again = catalog.harvest(urls(server), remote=FAST)
    assert again.datasets_unchanged == len(ROOTS)
    shutil.copy(tree / ROOTS[1] / "zarr.json", tree / ROOTS[3] / "zarr.json")
    third = catalog.harvest(urls(server), remote=FAST)
    assert third.datasets_harvested == 1 and third.datasets_unchanged == len(ROOTS) - 1
    assert catalog.store.source_files()[yeast][0][0] == "zarr.json"
    catalog.close()


def test_transient_failures_are_retried(
    tmp_path: Path, tree: Path, server: FixtureHttpServer
) -> None:
    root = quoted(ROOTS[1]).replace("%20", " ")
    server.fail(f"{root}/zarr.json", 503, 429)
    server.fail(f"{root}/ro-crate-metadata.json", 500)
    server.fail(f"{root}/0/zarr.json", "hang")
    server.hang_seconds = 3.0
    options = RemoteOptions(concurrency=8, timeout=0.5, retries=3, backoff=0.01)
    catalog = harvest(tmp_path, "retry", urls(server), remote=options)
    report = catalog.last_report  # type: ignore[attr-defined]
    assert report.ok, report.failed
    assert report.datasets_harvested == len(ROOTS)
    assert [r.status for r in server.requests if r.path == f"{root}/zarr.json"][:3] == [
        503,
        429,
        200,
    ]
    assert server.count(path=f"{root}/ro-crate-metadata.json", status=200) == 1
    assert server.count(path=f"{root}/0/zarr.json", status=200) >= 1
    # the retried dataset has the same graph as without failures
    clean = harvest(tmp_path, "clean", urls(server))
    assert dataset_quads(catalog) == dataset_quads(clean)
    catalog.close()
    clean.close()


def test_a_dataset_that_keeps_failing_is_reported_and_the_run_goes_on(
    tmp_path: Path, tree: Path, server: FixtureHttpServer
) -> None:
    bad = ROOTS[2]
    server.fail_always(f"{bad}/zarr.json", 500)
    server.fail_always(f"{ROOTS[1]}/1/zarr.json", 503)
    catalog = harvest(tmp_path, "fail", urls(server))
    report = catalog.last_report  # type: ignore[attr-defined]
    assert not report.ok
    failed = {p.path: p.reason for p in report.failed}
    assert set(failed) == {server.url + quoted(bad) + "/", server.url + quoted(ROOTS[1]) + "/"}
    root_reason = failed[server.url + quoted(bad) + "/"]
    assert "500" in root_reason and quoted(bad) in root_reason
    assert "503" in failed[server.url + quoted(ROOTS[1]) + "/"]
    assert report.datasets_harvested == len(ROOTS) - 2
    # retried up to the limit: 1 + 3 requests
    assert server.count(path=f"{bad}/zarr.json") == 1 + FAST.retries
    # the partly read dataset keeps what could be read, and is read again next time
    graphs = dataset_quads(catalog)
    assert server.url + quoted(bad) + "/" not in graphs
    partial = graphs[server.url + quoted(ROOTS[1]) + "/"]
    assert any(p == f"<{NKG}extractionError>" for _, p, _ in partial)
    server.clear_failures()
    again = catalog.harvest(urls(server), remote=FAST)
    assert again.ok and again.datasets_harvested == 2 and again.datasets_unchanged == 3
    catalog.close()


def test_missing_optional_documents_are_not_errors(
    tmp_path: Path, tree: Path, server: FixtureHttpServer
) -> None:
    root = tree / ROOTS[4]
    (root / "ro-crate-metadata.json").unlink(missing_ok=True)
    catalog = harvest(tmp_path, "optional", [server.url + quoted(ROOTS[4])])
    report = catalog.last_report  # type: ignore[attr-defined]
    assert report.ok and not report.warnings, (report.failed, report.warnings)
    assert report.crates == 0 and report.datasets_harvested == 1
    assert server.count(status=404) >= 1  # the crate (and the optional labels group)
    catalog.close()


def test_urls_that_are_not_roots_are_reported(
    tmp_path: Path, tree: Path, server: FixtureHttpServer
) -> None:
    sources = [server.url + "nothing-here.zarr", server.url + quoted(ROOTS[1]) + "/0"]
    catalog = harvest(tmp_path, "notroots", sources)
    report = catalog.last_report  # type: ignore[attr-defined]
    reasons = [p.reason for p in sorted(report.failed, key=lambda p: p.path, reverse=True)]
    assert len(reasons) == 2
    assert "not an OME-Zarr root" in reasons[0]
    assert "array" in reasons[1]
    catalog.close()


def test_s3_reharvest_prune_and_credentials(tmp_path: Path, tree: Path) -> None:
    with FixtureS3Server() as s3:
        s3.upload(tree, BUCKET, "mirror/")
        options = RemoteOptions(
            concurrency=8, timeout=5.0, retries=1, endpoint_url=s3.endpoint_url, anonymous=True
        )
        source = f"s3://{BUCKET}/mirror/"
        catalog = Catalog(tmp_path / "store")
        first = catalog.harvest([source], remote=options, base_url="https://")
        assert first.ok and first.datasets_harvested == len(ROOTS)
        s3.reset()
        again = catalog.harvest([source], remote=options, base_url="https://")
        assert again.datasets_unchanged == len(ROOTS) and again.datasets_harvested == 0
        # nothing but listings and conditional or missing answers
        gets = [r for r in s3.requests if r.method == "GET" and r.query == ""]
        assert all(r.status in (304, 404) for r in gets), gets
        # a dataset removed from the bucket is pruned
        client = s3.client()
        listed = client.list_objects_v2(Bucket=BUCKET, Prefix="mirror/" + ROOTS[3] + "/")
        for item in listed["Contents"]:
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
        pruned = catalog.harvest([source], remote=options, base_url="https://", prune=True)
        assert pruned.datasets_pruned == 1
        remaining = set(catalog.query("find-datasets").column("dataset"))
        assert "https://" + ROOTS[3] + "/" not in remaining and len(remaining) == len(ROOTS) - 1
        catalog.close()
        # with credentials in the environment, requests are signed (moto accepts any key)
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AWS_ACCESS_KEY_ID", "ngff-kg-test")
            env.setenv("AWS_SECRET_ACCESS_KEY", "ngff-kg-test")
            signed = RemoteOptions(concurrency=4, endpoint_url=s3.endpoint_url, retries=0)
            assert not signed.unsigned
            with Catalog(None) as other:
                report = other.harvest([source], remote=signed, base_url="https://")
                assert report.ok and report.datasets_harvested == len(ROOTS) - 1
        # a bucket that does not exist is a clear error of the source
        result = CliRunner().invoke(
            app,
            [
                "harvest",
                f"s3://no-such-bucket-{tmp_path.name.lower()[:8]}/x/",
                "--store",
                str(tmp_path / "s2"),
                "--endpoint-url",
                s3.endpoint_url,
                "--retries",
                "0",
            ],
        )
        assert result.exit_code == 2, result.output
        assert "no-such-bucket" in result.output


def test_cli_harvests_urls_with_its_options(
    tmp_path: Path, tree: Path, server: FixtureHttpServer
) -> None:
    runner = CliRunner()
    args = ["harvest", *urls(server), "--store", str(tmp_path / "store"), "--concurrency", "4"]
    result = runner.invoke(app, [*args, "--timeout", "5", "--retries", "1"])
    assert result.exit_code == 0, result.output
    assert "datasets/s" in result.output
    server.fail_always(f"{ROOTS[0]}/zarr.json", 503)
    failed = runner.invoke(app, [*args, "--force", "--retries", "0"])
    assert failed.exit_code == 1
    text = " ".join(failed.output.split())
    assert "503" in text and "zebrafish-spim" in text
    usage = runner.invoke(app, [*args, "--executor", "spark"])
    assert usage.exit_code == 2 and "--executor" in usage.output


def test_urls_options_and_messages() -> None:
    from ngff_kg.errors import ExtractionError, UsageError
    from ngff_kg.sources.remote import (
        Fetcher,
        RemoteSource,
        _message,
        is_remote,
        join_url,
        split_url,
    )

    assert split_url("https://Host.org/a%20b/x.zarr/zarr.json") == (
        "https://host.org",
        "a b/x.zarr/zarr.json",
    )
    assert split_url("s3://bucket/p/q/") == ("s3://bucket", "p/q/")
    assert join_url("https://h/a%20b/", "A/1/zarr.json") == "https://h/a%20b/A/1/zarr.json"
    assert join_url("https://h/x/", "my label/zarr.json") == "https://h/x/my%20label/zarr.json"
    with pytest.raises(UsageError):
        split_url("ftp://host/x")
    assert is_remote("HTTPS://x") and is_remote("s3://b/") and not is_remote("data/x.zarr")
    assert not is_remote(Path("https:/x"))
    for bad in ({"concurrency": 0}, {"timeout": 0}, {"retries": -1}):
        with pytest.raises(UsageError):
            RemoteOptions(**bad)  # type: ignore[arg-type]
    assert RemoteOptions(concurrency=3).max_requests == 12
    assert RemoteOptions(anonymous=False).unsigned is False
    dump = "Generic error: Server returned 503:\n\nDebug source:\nGeneric {\n  status: 503 }"
    assert _message(RuntimeError(dump)) == "Generic error: Server returned 503:"
    # only metadata documents can be asked for, and never outside the root
    source = RemoteSource(Fetcher(FAST), "https://example.org/x.zarr")
    for path in ("0/c/0/0/0", "../other.zarr/zarr.json"):
        with pytest.raises(ExtractionError):
            source.get(path)
    assert source.accessed == []


def test_a_walk_stopped_early_stops_its_producer() -> None:
    import time

    from ngff_kg.sources.remote import Fetcher, iter_in_thread

    produced: list[int] = []

    async def numbers():  # type: ignore[no-untyped-def]
        for n in range(100_000):
            produced.append(n)
            yield n

    with Fetcher(FAST) as fetcher:
        items = iter_in_thread(fetcher, numbers)
        assert [next(items) for _ in range(3)] == [0, 1, 2]
        items.close()  # the consumer stops
        time.sleep(0.5)
        stopped_at = len(produced)
        time.sleep(0.3)
        assert len(produced) == stopped_at < 100_000  # the producer stopped too

        async def failing():  # type: ignore[no-untyped-def]
            yield 1
            raise ValueError("listing broke")

        with pytest.raises(ValueError, match="listing broke"):
            list(iter_in_thread(fetcher, failing))
