//! The run directory's afterlife: `report` recomputes it, `compare` sets runs side by side,
//! `--baseline` gates against an earlier run, and `--shard` + `merge` equal an unsharded run.

mod common;

use std::path::{Path, PathBuf};

use common::{shakedown, text};

fn run(dir: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec![
        "run",
        "--limit",
        "30",
        "--corruptions",
        "typo:1-2,ocr:1,3,asr:1,jargon:1,l2:1,asr+jargon:2",
        "--no-sustain",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = shakedown(&args);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    dir.to_path_buf()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn sharded_and_merged_run_equals_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = run(&tmp.path().join("whole"), &["--seed", "4"]);
    let mut shards = Vec::new();
    for k in 1..=4 {
        let spec = format!("{k}/4");
        shards.push(run(
            &tmp.path().join(format!("shard{k}")),
            &["--seed", "4", "--shard", &spec],
        ));
    }
    let merged = tmp.path().join("merged");
    let mut args = vec!["merge".to_string()];
    // Any order of shards gives the same result.
    args.extend(shards.iter().rev().map(|p| p.display().to_string()));
    args.extend(["--out".to_string(), merged.display().to_string()]);
    let o = shakedown(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    for file in [
        "results.parquet",
        "metrics.parquet",
        "summary.json",
        "junit.xml",
        "summary.md",
    ] {
        let same = std::fs::read(whole.join(file)).unwrap() == std::fs::read(merged.join(file)).unwrap();
        assert!(same, "{file} differs between the unsharded and the merged run");
    }
    // Shard 2 holds f32's typo inputs but not its clean ones (shard 1's): its own table shows no change
    // from clean and no coverage warning for f32 rather than figures against an empty clean cell.
    let md = std::fs::read_to_string(shards[1].join("summary.md")).unwrap();
    let f32_row = md
        .lines()
        .find(|l| l.starts_with("| f32 | - | "))
        .expect("f32's row of figures");
    assert!(f32_row.contains("(-)"), "{f32_row}");
    assert!(
        !f32_row.contains("(+") && !f32_row.contains("(-1") && !f32_row.contains("(-0"),
        "{f32_row}"
    );
    let summary = json(&shards[1].join("summary.json"));
    let f32_families = summary["schemes"][0]["families"].as_array().unwrap();
    assert!(
        f32_families.iter().all(|f| f["low_coverage"].is_null()),
        "{f32_families:?}"
    );
    // Nor does its summary.json: the figures paired with clean are null there, not computed against
    // nothing (typo@1 read a drop of -76.7 points), while those paired with the reference stay.
    let held: Vec<_> = f32_families
        .iter()
        .filter(|f| f["pooled"]["n"].as_u64() > Some(0))
        .collect();
    assert!(
        !held.is_empty(),
        "shard 2 holds some of f32's noisy inputs: {f32_families:?}"
    );
    for f in held {
        let pooled = &f["pooled"];
        for field in ["drop", "drop_ci", "extra_drop", "flip_rate", "changed"] {
            assert!(pooled[field].is_null(), "{field} of {}: {pooled}", f["family"]);
        }
        assert_eq!(
            pooled["agreement"].as_f64(),
            Some(100.0),
            "f32 is the reference: {pooled}"
        );
    }
    // A shard exits 0 without a verdict; a missing shard is refused.
    let o = shakedown(&[
        "merge",
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        "--out",
        tmp.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is missing"));
}

#[test]
fn report_recomputes_the_same_outputs_from_the_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run(&tmp.path().join("r"), &[]);
    let before = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    std::fs::remove_file(dir.join("report.html")).unwrap();
    std::fs::write(dir.join("summary.md"), "stale").unwrap();
    let o = shakedown(&["report", dir.to_str().unwrap()]);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    assert!(
        std::fs::read_to_string(dir.join("summary.json")).unwrap() == before,
        "summary.json changed"
    );
    assert!(dir.join("report.html").exists());
    assert_ne!(std::fs::read_to_string(dir.join("summary.md")).unwrap(), "stale");
}

/// `report` re-gates a run from its tables, so a table from another run must not pass as this run's: a
/// results.parquet without a family the summary's run asked for (whose rule would read as "not in this
/// run") or of another seed is refused (exit 2, naming the file), as is a summary.json with no schemes,
/// and the outputs are left as they were. A run written with --force over an earlier one removes the
/// earlier run's verdicts re-gated against a baseline.
#[test]
fn report_refuses_tables_of_another_run_and_force_clears_old_verdicts() {
    let tmp = tempfile::tempdir().unwrap();
    // Twelve examples (`subset` picks them: --limit or --sample), f32 and int8, no sustain phase.
    let quick = |name: &str, corruptions: &str, seed: &str, subset: &str| {
        let dir = tmp.path().join(name);
        let flags =
            format!("run {subset} 12 --schemes f32,int8 --corruptions {corruptions} --seed {seed} --no-sustain --out");
        let mut args: Vec<&str> = flags.split(' ').collect();
        args.push(dir.to_str().unwrap());
        let o = shakedown(&args);
        assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
        dir
    };
    let a = quick("a", "typo:1,ocr:1", "1", "--limit");
    let fewer = quick("fewer", "typo:1", "1", "--limit");
    let reseeded = quick("reseeded", "typo:1,ocr:1", "2", "--limit");
    // The same cells, seed and counts, other examples: only the digest of the rows tells them apart.
    let sampled = quick("sampled", "typo:1,ocr:1", "1", "--sample");
    for (other, says) in [
        (&fewer, "holds 0 rows for f32 under ocr at severity 1"),
        (&reseeded, "has seed 2"),
        (&sampled, "meta.results_sha256 differs"),
    ] {
        let t = tmp.path().join("t");
        let _ = std::fs::remove_dir_all(&t);
        std::fs::create_dir(&t).unwrap();
        for f in ["summary.json", "throughput.parquet", "summary.md"] {
            std::fs::copy(a.join(f), t.join(f)).unwrap();
        }
        std::fs::copy(other.join("results.parquet"), t.join("results.parquet")).unwrap();
        let before = std::fs::read(t.join("summary.json")).unwrap();
        let o = shakedown(&["report", t.to_str().unwrap()]);
        let err = text(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("results.parquet") && err.contains(says), "{err}");
        assert_eq!(
            std::fs::read(t.join("summary.json")).unwrap(),
            before,
            "summary.json rewritten"
        );
    }
    let t = tmp.path().join("t");
    std::fs::copy(a.join("results.parquet"), t.join("results.parquet")).unwrap();
    let mut summary = json(&t.join("summary.json"));
    summary["meta"]["schemes"] = serde_json::json!([]);
    std::fs::write(t.join("summary.json"), summary.to_string()).unwrap();
    let o = shakedown(&["report", t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("field meta.schemes"), "{}", text(&o));

    let o = shakedown(&[
        "report",
        a.to_str().unwrap(),
        "--baseline",
        fewer.to_str().unwrap(),
        "--allow-mismatch",
    ]);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    let regated = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("gate-vs-"))
            .collect()
    };
    assert_eq!(regated(&a).len(), 3, "{:?}", regated(&a));
    let o = shakedown(&[
        "run",
        "--limit",
        "12",
        "--schemes",
        "int8",
        "--corruptions",
        "typo:1",
        "--no-sustain",
        "--force",
        "--out",
        a.to_str().unwrap(),
    ]);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    assert!(regated(&a).is_empty(), "{:?}", regated(&a));
}

#[test]
fn baseline_gate_fails_when_accuracy_falls_below_the_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let base = run(&tmp.path().join("base"), &[]);
    // Against itself: every baseline check passes (the suite's own rules are judged as in the run:
    // on 30 examples its ocr@1 drop rule may fail either way).
    let o = shakedown(&["report", base.to_str().unwrap(), "--baseline", base.to_str().unwrap()]);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    let regated = json(&base.join("gate-vs-base.json"));
    let baseline_checks: Vec<&serde_json::Value> = regated["gate"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"].as_str().unwrap().contains("below baseline"))
        .collect();
    // One baseline check per scheme and cell (clean, each family pooled and per severity).
    assert!(baseline_checks.len() >= 3, "{} baseline checks", baseline_checks.len());
    let failing: Vec<&&serde_json::Value> = baseline_checks.iter().filter(|c| c["status"] != "pass").collect();
    assert!(failing.is_empty(), "{failing:?}");
    let own: Vec<bool> = json(&base.join("summary.json"))["gate"]["schemes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["passed"].as_bool().unwrap())
        .collect();
    let again: Vec<bool> = regated["gate"]["schemes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(own, again, "re-gating against itself changes no scheme's verdict");
    assert_eq!(o.status.code() == Some(0), again.iter().all(|p| *p));
    // Against a baseline that claims 5 points more everywhere: fails, naming value, bound and interval.
    let mut better = json(&base.join("summary.json"));
    for s in better["schemes"].as_array_mut().unwrap() {
        let acc = s["clean"]["metrics"]["accuracy"]["value"].as_f64().unwrap();
        s["clean"]["metrics"]["accuracy"]["value"] = serde_json::json!(acc + 5.0);
    }
    let better_path = tmp.path().join("better.json");
    std::fs::write(&better_path, better.to_string()).unwrap();
    let out = tmp.path().join("gated");
    let o = shakedown(&[
        "run",
        "--limit",
        "30",
        "--corruptions",
        "typo:1-2,ocr:1,3,asr:1,jargon:1,l2:1,asr+jargon:2",
        "--no-sustain",
        "--baseline",
        better_path.to_str().unwrap(),
        "--baseline-max-drop",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("below baseline") && stdout.contains("95% interval"),
        "{stdout}"
    );
}

#[test]
fn compare_shows_deltas_significance_and_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run(&tmp.path().join("a"), &["--schemes", "f32,int8"]);
    let b = run(&tmp.path().join("b"), &["--schemes", "f32,w4a16-rtn-g32"]);
    let o = shakedown(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    for needle in ["A (base)", "int8", "w4a16-rtn-g32", "clean", "McNemar"] {
        assert!(table.contains(needle), "{needle} missing: {table}");
    }
    // Schemes one run lacks are listed, not silently left out.
    assert!(
        table.contains("not in every run") && table.contains("no int8 results"),
        "{table}"
    );
    let o = shakedown(&["compare", a.to_str().unwrap(), b.to_str().unwrap(), "--format", "json"]);
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f32_typo = c["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["scheme"] == "f32" && l["family"] == "typo" && l["severity"] == "all")
        .unwrap();
    assert_eq!(f32_typo["value"].as_array().unwrap().len(), 2);
    assert_eq!(
        f32_typo["delta"][1].as_f64(),
        Some(0.0),
        "same seed, same f32: same answers"
    );
    assert_eq!(f32_typo["p_value"][1].as_f64(), Some(1.0));
    // Each run's inputs in the scope, and the delta's paired interval (none for the base itself).
    let n = f32_typo["n"][0].as_u64().unwrap();
    assert!(n > 0 && f32_typo["n"][1].as_u64() == Some(n), "{f32_typo}");
    assert!(f32_typo["delta_ci"][0].is_null());
    // Two runs that answered alike are not a certain zero: Newcombe's interval on the n examples.
    let ci: Vec<f64> = f32_typo["delta_ci"][1]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert!(ci[0] < 0.0 && ci[1] > 0.0 && (ci[0] + ci[1]).abs() < 1e-9, "{ci:?}");
    // Each run's ship decision, as its own summary.json has it.
    for (i, dir) in [&a, &b].iter().enumerate() {
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
        let decision = &c["decisions"][i];
        assert_eq!(decision["passed"], summary["gate"]["passed"], "{decision}");
        assert_eq!(
            decision["recommended"], summary["gate"]["recommendation"]["scheme"],
            "{decision}"
        );
        assert_eq!(decision["verdicts"][0]["scheme"], "f32");
    }
    for needle in [
        "A (base) verdict",
        "A (base): gate ",
        "B: gate ",
        "paired over the shared examples",
    ] {
        assert!(table.contains(needle), "{needle} missing: {table}");
    }
    assert_eq!(c["metric"], "accuracy");
    let o = shakedown(&["compare", a.to_str().unwrap(), b.to_str().unwrap(), "--format", "md"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("|---|"));
    let o = shakedown(&["compare", a.to_str().unwrap(), "/nonexistent"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn sustain_command_writes_throughput_windows() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let o = shakedown(&[
        "sustain",
        "--schemes",
        "f32,int8",
        "--sustain-seconds",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("sustained") && stdout.contains("int8"), "{stdout}");
    let windows = shakedown::analysis::tables::read_throughput(&out.join("throughput.parquet")).unwrap();
    assert_eq!(
        windows.iter().filter(|w| w.scheme == "int8").count(),
        3,
        "1 s in windows of a third of it (the suite's 0.5 s would leave two)"
    );
    assert!(windows
        .iter()
        .all(|w| w.items > 0 && w.tokens >= w.items && w.latency_p99_ms >= w.latency_p50_ms));
    // Memory per scheme: the peak while it was built and ran, and its serving peak (reset after the
    // build), from which the table's "serving MiB" is taken over what the process held before.
    assert!(stdout.contains("serving MiB"), "{stdout}");
    let summary = json(&out.join("summary.json"));
    for s in summary["meta"]["schemes"].as_array().unwrap() {
        let m = &s["memory"];
        if m["scope"] != "scheme" {
            continue; // no /proc/self/clear_refs here: the serving figure is not claimed
        }
        let (start, serving, peak) = (
            m["rss_at_start_bytes"].as_u64().unwrap(),
            m["serving_peak_rss_bytes"].as_u64().unwrap(),
            m["peak_rss_bytes"].as_u64().unwrap(),
        );
        assert!(start <= serving && serving <= peak, "{m}");
    }
    // Set beside a gated run, the sustain run made no ship decision to differ from.
    let gated = run(&tmp.path().join("gated"), &["--schemes", "f32,int8"]);
    let o = shakedown(&[
        "compare",
        gated.to_str().unwrap(),
        out.to_str().unwrap(),
        "--allow-mismatch",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!stdout.contains("the ship decision differs"), "{stdout}");
}

/// The example ids a run evaluated on clean inputs, in its results' order.
fn clean_ids(out: &Path) -> Vec<String> {
    let rows = shakedown::analysis::tables::read_results(&out.join("results.parquet"))
        .unwrap()
        .1;
    rows.into_iter()
        .filter(|r| r.family == "clean" && r.scheme == "f32")
        .map(|r| r.example_id)
        .collect()
}

#[test]
fn a_sample_is_a_seeded_draw_of_the_whole_split_whatever_the_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let go = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec!["--schemes", "f32", "--sample", "12"];
        args.extend_from_slice(extra);
        let o = common::quick_run(&out, &args);
        assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
        out
    };
    let one = go("one", &["--seed", "4", "--threads", "1"]);
    let two = go("two", &["--seed", "4", "--threads", "2"]);
    let other = go("other", &["--seed", "5", "--threads", "2"]);
    // summary.json names the thread count; the tables do not.
    for file in ["results.parquet", "metrics.parquet"] {
        let same = std::fs::read(one.join(file)).unwrap() == std::fs::read(two.join(file)).unwrap();
        assert!(same, "{file} differs between one and two threads");
    }
    let ids = clean_ids(&one);
    assert_eq!(ids.len(), 12);
    // Not the split's first twelve: drawn from all of it, in file order.
    let first: Vec<String> = common::default_test_lines(12)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_ne!(ids, first);
    assert_ne!(ids, clean_ids(&other), "another seed draws another sample");
    let summary = json(&one.join("summary.json"));
    assert_eq!(summary["meta"]["sample"].as_u64(), Some(12), "{}", summary["meta"]);
    let md = std::fs::read_to_string(one.join("summary.md")).unwrap();
    assert!(
        md.contains("12 test examples (a random sample drawn from the seed)"),
        "{md}"
    );
    // --limit and --sample are two answers to one question: asking both is refused.
    let o = common::quick_run(&tmp.path().join("both"), &["--sample", "5", "--limit", "5"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // compare does not pair a sample with another seed's.
    let o = shakedown(&["compare", one.to_str().unwrap(), other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// A shard whose deal holds none of a scheme's work does not build it: its bits and size read "-" in
/// its tables (not 0.00 bits of 0 MB); `merge` fills them from the shard that built it.
#[test]
fn a_shard_that_builds_no_scheme_shows_no_size_for_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("shard8");
    let o = shakedown(&[
        "run",
        "--limit",
        "5",
        "--schemes",
        "f32,int8",
        "--corruptions",
        "typo:1",
        "--no-sustain",
        "--shard",
        "8/8",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let row = stdout.lines().find(|l| l.starts_with("f32 ")).expect("f32's row");
    assert!(row.split_whitespace().take(3).eq(["f32", "-", "-"]), "{row}");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.lines()
            .any(|l| l.starts_with("| f32 | not gated |") && l.contains("| - | - |")),
        "{md}"
    );
}
