//! A real embedding model without a classification head runs the default suite by nearest label prototype.

mod common;

use common::{shakedown, text};

#[test]
fn minilm_runs_the_default_suite_with_prototypes_under_every_scheme() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let model = common::minilm_dir();
    let o = shakedown(&[
        "run",
        "--model",
        model.to_str().unwrap(),
        "--limit",
        "40",
        "--corruptions",
        "typo:2,ocr:2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.code().unwrap_or(3) <= 1, "{}", text(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(summary["meta"]["task"]["method"]
        .as_str()
        .unwrap()
        .contains("prototype"));
    let schemes: Vec<&str> = summary["schemes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scheme"].as_str().unwrap())
        .collect();
    assert_eq!(schemes, ["f32", "int8", "w4a16-rtn-g128"]);
    for s in &summary["schemes"].as_array().unwrap()[1..] {
        let f = &s["fidelity"];
        assert_eq!(f["kind"], "embedding");
        let (mean, min) = (f["mean_cosine"].as_f64().unwrap(), f["min_cosine"].as_f64().unwrap());
        assert!(mean > 0.9 && min > 0.8 && mean <= 1.0 + 1e-6, "{f}");
    }
    // Prototype classification of an off-the-shelf encoder is far better than chance (1/14) on clean commands.
    let clean = summary["schemes"][0]["clean"]["metrics"]["accuracy"]["value"]
        .as_f64()
        .unwrap();
    assert!(clean > 40.0, "clean accuracy {clean}");
}
