//! Runs that differ in what was run are refused by `compare`, `--baseline` and `merge`, with a
//! message naming the field; `--allow-mismatch` compares anyway and says what it drops.

mod common;

use std::path::{Path, PathBuf};

use common::{shakedown, text};

fn run(dir: &Path, extra: &[&str]) -> PathBuf {
    let mut args = vec!["--schemes", "f32"];
    args.extend_from_slice(extra);
    let o = common::quick_run(dir, &args);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    dir.to_path_buf()
}

fn refused(args: &[&str], field: &str) {
    let o = shakedown(args);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("{field} differs")), "should name {field}: {err}");
    assert!(err.contains("--allow-mismatch"), "{err}");
}

#[test]
fn compare_refuses_other_seeds_limits_and_suites_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let base = run(&tmp.path().join("base"), &["--limit", "20"]);
    let seed = run(&tmp.path().join("seed"), &["--limit", "20", "--seed", "2"]);
    let limit = run(&tmp.path().join("limit"), &["--limit", "10"]);
    let suite_dir = tmp.path().join("suite");
    std::fs::create_dir(&suite_dir).unwrap();
    let data = common::default_test_lines(30);
    let toml = std::fs::read_to_string(common::default_suite().join("suite.toml"))
        .unwrap()
        .replace(
            "model = \"model\"",
            &format!("model = \"{}\"", common::default_model().display()),
        )
        .replace(
            "data = [\"data.jsonl\", \"handwritten.jsonl\"]",
            "data = [\"data.jsonl\"]",
        );
    std::fs::write(suite_dir.join("suite.toml"), toml).unwrap();
    std::fs::write(suite_dir.join("data.jsonl"), data).unwrap();
    let other_suite = run(
        &tmp.path().join("other-suite"),
        &["--limit", "20", "--suite", suite_dir.to_str().unwrap()],
    );
    // A sample or limit of at least the split is the whole split, recorded so: it compares with the
    // whole split's run (the 30-command suite run whole, with --sample 100 and with --limit 30).
    let whole = |name: &str, extra: &[&str]| {
        let mut args = vec!["--suite", suite_dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        run(&tmp.path().join(name), &args)
    };
    let (all, sampled, limited) = (
        whole("all", &[]),
        whole("sampled", &["--sample", "100"]),
        whole("limited", &["--limit", "30"]),
    );
    for other in [&sampled, &limited] {
        let o = shakedown(&["compare", all.to_str().unwrap(), other.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert_eq!(
            std::fs::read(all.join("results.parquet")).unwrap(),
            std::fs::read(other.join("results.parquet")).unwrap()
        );
    }
    let b = base.to_str().unwrap();
    refused(&["compare", b, seed.to_str().unwrap()], "seed");
    refused(&["compare", b, limit.to_str().unwrap()], "limit");
    refused(&["compare", b, other_suite.to_str().unwrap()], "suite content");

    // Allowed: the comparison is made, without paired tests, and says why.
    let o = shakedown(&[
        "compare",
        b,
        seed.to_str().unwrap(),
        "--allow-mismatch",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let notes = c["notes"].to_string();
    assert!(
        notes.contains("seed differs (1 vs 2)") && notes.contains("no paired test is shown for the others"),
        "{notes}"
    );
    // The clean inputs are the same texts under either seed, so those lines stay paired; the noise
    // differs, so the corrupted lines are compared as independent samples.
    for l in c["lines"].as_array().unwrap() {
        assert_eq!(l["p_value"][1].is_null(), l["family"] != "clean", "{l}");
    }
    // Unpaired, the delta still has an interval, Newcombe's for two independent proportions, except
    // on severities pooled: several variants of one example are not independent answers.
    for l in c["lines"].as_array().unwrap() {
        let interval = l["delta_ci"][1].as_array().map(Vec::len);
        assert_eq!(interval, (l["severity"] != "all").then_some(2), "{l}");
    }
}

#[test]
fn a_baseline_of_another_seed_or_model_is_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let base = run(&tmp.path().join("base"), &["--limit", "10"]);
    let out = tmp.path().join("gated");
    let b = base.to_str().unwrap();
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "run",
            "--schemes",
            "f32",
            "--corruptions",
            "typo:1",
            "--no-sustain",
            "--limit",
            "10",
            "--baseline",
            b,
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        a
    };
    refused(&args(&["--seed", "3"]), "seed");
    assert!(!out.exists(), "nothing written for a refused run");
    let minilm = common::minilm_dir();
    let minilm = minilm.to_str().unwrap().to_string();
    let with_model: Vec<&str> = args(&[]).into_iter().chain(["--model", minilm.as_str()]).collect();
    refused(&with_model, "model");
    // Allowed, the gate runs and the report names the difference.
    let allowed: Vec<&str> = args(&["--seed", "3", "--allow-mismatch"]);
    let o = shakedown(&allowed);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("seed differs (3 vs 1)"),
        "the report says how the baseline differs"
    );
    // report --baseline checks too.
    refused(&["report", out.to_str().unwrap(), "--baseline", b], "seed");
}

#[test]
fn merge_refuses_shards_of_different_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let one = run(&tmp.path().join("one"), &["--limit", "10", "--shard", "1/2"]);
    let two = run(
        &tmp.path().join("two"),
        &["--limit", "10", "--shard", "2/2", "--seed", "5"],
    );
    let o = shakedown(&[
        "merge",
        one.to_str().unwrap(),
        two.to_str().unwrap(),
        "--out",
        tmp.path().join("m").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not a shard of the same run") && err.contains("seed differs (1 vs 5)"),
        "{err}"
    );
}

/// Runs made comparable with --allow-mismatch may pool other severities under one family: typo over
/// severities 1-3 against typo at 1 alone is no change of the model. `compare` gives that line no delta
/// and lists it; the baseline gate skips the cell (it failed every scheme on the drop severities 2 and 3
/// add) and still judges severity 1.
#[test]
fn a_family_pooled_over_other_severities_is_not_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let make = |name: &str, corruptions: &str| {
        let out = tmp.path().join(name);
        let o = shakedown(&[
            "run",
            "--schemes",
            "f32",
            "--limit",
            "20",
            "--no-sustain",
            "--corruptions",
            corruptions,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
        out
    };
    let (mild, wide) = (make("mild", "typo:1"), make("wide", "typo:1-3"));
    let o = shakedown(&[
        "compare",
        mild.to_str().unwrap(),
        wide.to_str().unwrap(),
        "--allow-mismatch",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let line = |severity: &str| {
        c["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["family"] == "typo" && l["severity"] == severity)
            .cloned()
            .unwrap()
    };
    assert!(
        line("all")["delta"][1].is_null() && line("all")["delta_ci"][1].is_null(),
        "{}",
        line("all")
    );
    assert_eq!(line("1")["delta"][1].as_f64(), Some(0.0), "{}", line("1"));
    assert!(
        c.to_string()
            .contains("pooled over severities 1, 2, 3, the first run over 1: no delta"),
        "{c}"
    );

    let o = shakedown(&[
        "report",
        wide.to_str().unwrap(),
        "--baseline",
        mild.to_str().unwrap(),
        "--allow-mismatch",
    ]);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    let gated = std::fs::read_to_string(wide.join("gate-vs-mild.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&gated).unwrap();
    let checks = v.to_string();
    assert!(
        checks.contains("pooled over severities 1, 2, 3 here, 1 in the baseline"),
        "{checks}"
    );
    let failed_baseline = v
        .pointer("/gate/checks")
        .or_else(|| v.get("checks"))
        .and_then(|c| c.as_array())
        .map(|cs| {
            cs.iter()
                .filter(|c| c["rule"].as_str().is_some_and(|r| r.contains("below baseline")) && c["status"] == "fail")
                .count()
        });
    assert_eq!(failed_baseline, Some(0), "{gated}");
}
