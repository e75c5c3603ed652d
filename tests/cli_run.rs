//! `shakedown run` end to end through the real binary on the shipped suite and model.

mod common;

use common::{shakedown, small_suite, text};

fn run_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(name).tempdir().unwrap()
}

/// `shakedown run` of `f32` on a small suite of `data` with `gate` rules, under `corruptions`, into
/// `tmp/run`: the output and the run directory.
fn run_small_suite(
    tmp: &tempfile::TempDir,
    data: &str,
    gate: &str,
    corruptions: &str,
) -> (std::process::Output, std::path::PathBuf) {
    let suite = small_suite(tmp.path(), data, gate);
    let out = tmp.path().join("run");
    let o = shakedown(&[
        "run",
        "--suite",
        suite.to_str().unwrap(),
        "--schemes",
        "f32",
        "--corruptions",
        corruptions,
        "--out",
        out.to_str().unwrap(),
    ]);
    (o, out)
}

#[test]
fn default_suite_run_writes_the_run_directory_and_applies_the_gate() {
    let out = run_dir("run");
    let dir = out.path().join("r");
    let o = shakedown(&[
        "run",
        "--limit",
        "60",
        "--sustain-seconds",
        "1",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let code = o.status.code();
    assert!(code == Some(0) || code == Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for scheme in ["f32", "int8", "w4a16-rtn-g128"] {
        assert!(stdout.contains(scheme), "table lacks {scheme}: {stdout}");
    }
    for family in ["typo", "ocr", "asr", "jargon", "l2"] {
        assert!(stdout.contains(family), "table lacks {family}: {stdout}");
    }

    let rows = shakedown::analysis::tables::read_results(&dir.join("results.parquet"))
        .unwrap()
        .1;
    assert_eq!(rows.len(), 3 * 60 * (1 + 25), "one row per scheme x variant");
    assert!(rows
        .iter()
        .filter(|r| r.family != "clean")
        .all(|r| (1..=5).contains(&r.severity)));

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let passed = summary["gate"]["passed"].as_bool().unwrap();
    assert_eq!(code == Some(0), passed, "exit code follows the verdict");
    let schemes = summary["schemes"].as_array().unwrap();
    assert_eq!(schemes.len(), 3);
    let bytes: Vec<u64> = schemes
        .iter()
        .map(|s| s["weights"]["weight_bytes"].as_u64().unwrap())
        .collect();
    assert!(
        bytes[1] * 3 < bytes[0] + 1 && bytes[2] * 6 < bytes[0],
        "int8 and int4 must be packed: {bytes:?}"
    );
    // The shipped model scores 69.9 % on the whole test split (templates, phrasings and names held out of
    // training; README.md), chance is 1 in 14: the first 60 examples must sit well above chance.
    let clean = schemes[0]["clean"]["metrics"]["accuracy"]["value"].as_f64().unwrap();
    assert!(clean >= 50.0, "f32 clean accuracy {clean}");
    assert_eq!(summary["meta"]["task"]["measures"], serde_json::json!(["accuracy"]));
    // Every scheme has a verdict, and the run's verdict follows the policy (every scheme must pass).
    let verdicts = summary["gate"]["schemes"].as_array().unwrap();
    assert_eq!(verdicts.len(), 3);
    let all_pass = verdicts.iter().all(|v| v["passed"].as_bool().unwrap());
    assert_eq!(all_pass, passed);
    for s in schemes {
        let m = &s["memory"];
        assert!(m["peak_rss_bytes"].as_u64().unwrap() > 1 << 20, "{m}");
    }
    for s in schemes {
        let t = &s["throughput"];
        assert!(t["sustained_items_per_s"].as_f64().unwrap() > 0.0, "{t}");
        assert!(t["windows"].as_u64().unwrap() >= 2);
    }
    assert!(
        schemes[0]["fidelity"].is_null(),
        "the reference has no fidelity to itself"
    );
    for s in &schemes[1..] {
        let f = &s["fidelity"];
        assert_eq!(f["reference"], "f32");
        assert!(
            f["top1_agreement"].as_f64().unwrap() > 90.0 && f["mean_kl"].as_f64().unwrap() >= 0.0,
            "{f}"
        );
    }
    for file in ["throughput.parquet", "metrics.parquet", "junit.xml", "summary.md"] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    let windows = shakedown::analysis::tables::read_throughput(&dir.join("throughput.parquet")).unwrap();
    assert!(windows
        .iter()
        .all(|w| w.cpu_temp_c.is_none() || w.cpu_temp_c.unwrap() > 0.0));
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(
        junit.matches("<testcase").count(),
        summary["gate"]["checks"].as_array().unwrap().len()
    );

    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Gate:") && html.contains("w4a16-rtn-g128"));
    assert!(
        !html.contains("http://") || html.contains("http://www.w3.org/2000/svg"),
        "report must not load anything"
    );
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let out = run_dir("threads");
    let a = out.path().join("a");
    let b = out.path().join("b");
    for (dir, threads) in [(&a, "1"), (&b, "2")] {
        let o = shakedown(&[
            "run",
            "--limit",
            "25",
            "--seed",
            "5",
            "--threads",
            threads,
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    }
    let ra = shakedown::analysis::tables::read_results(&a.join("results.parquet")).unwrap();
    let rb = shakedown::analysis::tables::read_results(&b.join("results.parquet")).unwrap();
    assert_eq!(ra, rb);
    assert_eq!(
        std::fs::read(a.join("results.parquet")).unwrap(),
        std::fs::read(b.join("results.parquet")).unwrap()
    );
}

#[test]
fn the_run_table_never_shows_the_pooled_figure_under_the_judged_severity() {
    // A rule judges typo at severity 1; the run has severity 3 only: the table's "typo@1 | all"
    // column must show no severity-1 figure rather than the pooled one in its place.
    let tmp = run_dir("judged");
    let data = "{\"id\":\"1\",\"text\":\"move left two meters\",\"label\":\"move_left\",\"split\":\"test\"}\n\
                {\"id\":\"2\",\"text\":\"go right please\",\"label\":\"move_right\",\"split\":\"test\"}\n";
    let gate = "[[gate.rules]]\nmetric = \"drop\"\nfamily = \"typo\"\nseverity = \"1\"\nmax = 100.0\n";
    let (o, _) = run_small_suite(&tmp, data, gate, "typo:3");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("typo@1 | all"), "{stdout}");
    let row = stdout.lines().find(|l| l.starts_with("f32 ")).unwrap_or_default();
    assert!(row.contains("- | "), "{stdout}");
}

#[test]
fn gate_failure_exits_1_and_names_the_rule() {
    let tmp = run_dir("gate");
    let data = "{\"id\":\"1\",\"text\":\"move left two meters\",\"label\":\"move_left\",\"split\":\"test\"}\n\
                {\"id\":\"2\",\"text\":\"go right please\",\"label\":\"move_right\",\"split\":\"test\"}\n\
                {\"id\":\"3\",\"text\":\"stop\",\"label\":\"stop\",\"split\":\"test\"}\n";
    // A bound no answering model meets (accuracy at most 0; a minimum above 100 is refused at load).
    let gate = "[[gate.rules]]\nmetric = \"accuracy\"\nfamily = \"typo\"\nmax = 0\n";
    let (o, out) = run_small_suite(&tmp, data, gate, "typo:1");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("FAIL accuracy under typo") && stdout.contains("above the maximum 0"),
        "{stdout}"
    );
    assert!(out.join("summary.json").exists() && out.join("report.html").exists());
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<failure message=\"measured") && junit.contains("maximum 0"),
        "{junit}"
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("gate failed") && md.contains("| f32 | fail | accuracy under typo"),
        "{md}"
    );
    assert!(md.contains("No scheme passes the gate"), "{md}");
}

#[test]
fn suite_text_reaches_the_report_escaped() {
    let tmp = run_dir("escape");
    let data = "{\"id\":\"<b>x</b>\",\"text\":\"<script>alert(1)</script> move left \\\"now\\\"\",\"label\":\"move_left\",\"split\":\"test\"}\n";
    let (o, out) = run_small_suite(&tmp, data, "", "ocr:1");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<script>"), "unescaped suite text in the report");
    assert!(html.contains("&lt;script&gt;alert(1)"));
}
