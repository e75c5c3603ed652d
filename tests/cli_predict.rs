//! `shakedown predict`: lines in, JSON lines out, for classifiers and embedding models.

mod common;

use common::{shakedown_stdin, text};

#[test]
fn classifier_prints_label_scores_per_line() {
    let model = common::default_model();
    let o = shakedown_stdin(
        &["predict", "--model", model.to_str().unwrap(), "--scheme", "int8"],
        "move the pallet left of bay seven\nraise the forks to level two\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["label"], "move_left");
    assert_eq!(lines[1]["label"], "forks_level_2");
    let total: f64 = lines[0]["scores"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-4);
}

#[test]
fn embedding_model_prints_unit_embeddings() {
    let model = common::minilm_dir();
    let o = shakedown_stdin(&["predict", "--model", model.to_str().unwrap()], "hello world\n");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
    let e: Vec<f64> = v["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(e.len(), 384);
    assert!((e.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-4);
}

#[test]
fn unknown_scheme_is_a_usage_error() {
    let model = common::default_model();
    let o = shakedown_stdin(
        &["predict", "--model", model.to_str().unwrap(), "--scheme", "fp7"],
        "x\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn inspect_reports_per_layer_error_against_f32() {
    let model = common::default_model();
    let run = |scheme: &str| {
        let o = common::shakedown(&[
            "inspect",
            "--model",
            model.to_str().unwrap(),
            "--scheme",
            scheme,
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let errors = |v: &serde_json::Value, key: &str| -> Vec<f64> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["relative_error"].as_f64().unwrap())
            .collect()
    };
    let f32 = run("f32");
    assert!(errors(&f32, "linears")
        .iter()
        .chain(&errors(&f32, "layers"))
        .all(|e| *e == 0.0));
    let q4 = run("w4a16-rtn-g32");
    let (linears, layers) = (errors(&q4, "linears"), errors(&q4, "layers"));
    assert_eq!(
        (linears.len(), layers.len()),
        (12, 2),
        "2 layers of 6 Linears in the default model"
    );
    assert!(linears.iter().all(|e| *e > 0.0 && *e < 0.5), "{linears:?}");
    assert!(layers.iter().all(|e| *e > 0.0 && *e < 0.5), "{layers:?}");
}

#[test]
fn corrupt_writes_measured_variants_and_lists_families() {
    let o = common::shakedown_stdin(
        &["corrupt", "--corruptions", "typo:1-5", "--seed", "3"],
        "move the pallet left of bay seven\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["severity"], i as u64 + 1);
        assert_eq!(r["clean"], "move the pallet left of bay seven");
        let cer = r["cer"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&cer) && r["edits"].is_array());
    }
    let again = common::shakedown_stdin(
        &["corrupt", "--corruptions", "typo:1-5", "--seed", "3", "--threads", "1"],
        "move the pallet left of bay seven\n",
    );
    assert_eq!(again.stdout, o.stdout, "same bytes with one thread");
    let bad = common::shakedown_stdin(&["corrupt", "--corruptions", "nope:1"], "x\n");
    assert_eq!(bad.status.code(), Some(2));
    let list = common::shakedown(&["corruptions"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("severity 5"));
}
