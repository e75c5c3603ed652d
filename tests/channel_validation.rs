//! The synthetic `ocr` family against the real tesseract channel, replayed from its recorded outputs on the
//! default suite's test split (tests/fixtures/ocr_channel_test.jsonl, made by scripts/ocr_channel.py): at each
//! severity both have the same CER, and the accuracy drop under the synthetic family is within the tolerance
//! stated in corruptions/README.md of the drop under the real channel (harsher by at most 9 points, milder by
//! at most 2).

mod common;

/// Runs f32 on `corruptions` (a synthetic family and `channel`, the recording replayed) with the
/// extra `args`, and returns the per-severity cells of the run's first scheme for each family.
fn replayed_run(recording: &str, corruptions: &str, args: &[&str]) -> Vec<(String, Vec<serde_json::Value>)> {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let channel = format!("python3 scripts/replay_channel.py {recording} --severity {{severity}}");
    let mut all = vec![
        "run",
        "--schemes",
        "f32",
        "--no-sustain",
        "--corruptions",
        corruptions,
        "--channel-cmd",
        &channel,
        "--out",
        dir.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let o = common::shakedown(&all);
    assert!(
        o.status.code().unwrap_or(3) <= 1,
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    summary["schemes"][0]["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["family"].as_str().unwrap().to_string(),
                f["severities"].as_array().unwrap().clone(),
            )
        })
        .collect()
}

/// The cells of `family` in a `replayed_run`.
fn cells_of(families: &[(String, Vec<serde_json::Value>)], family: &str) -> Vec<serde_json::Value> {
    families.iter().find(|f| f.0 == family).unwrap().1.clone()
}

#[test]
fn synthetic_ocr_drop_matches_the_real_ocr_channel_within_tolerance() {
    let families = replayed_run("tests/fixtures/ocr_channel_test.jsonl", "ocr:1-5,channel:1-5", &[]);
    let (synthetic, real) = (cells_of(&families, "ocr"), cells_of(&families, "channel"));
    assert_eq!((synthetic.len(), real.len()), (5, 5));
    for (s, r) in synthetic.iter().zip(&real) {
        let level = s["severity_lo"].as_u64().unwrap();
        let (s_cer, r_cer) = (s["mean_cer"].as_f64().unwrap(), r["mean_cer"].as_f64().unwrap());
        assert!(
            (s_cer - r_cer).abs() <= 0.01,
            "severity {level}: CER {s_cer:.3} vs real {r_cer:.3}"
        );
        let gap = s["drop"].as_f64().unwrap() - r["drop"].as_f64().unwrap();
        assert!(
            (-2.0..=9.0).contains(&gap),
            "severity {level}: synthetic drop {} vs real {} ({gap:+.1} points)",
            s["drop"],
            r["drop"]
        );
    }
}

/// The recorded speech channel on the spoken-requests test split (scripts/asr_validation/record_channel.py):
/// espeak-ng, pink noise at 30 / 15 / 10 dB, Whisper tiny.en; two draws of it (noise seeds 0 and 1) on the
/// same 400 texts. The channel is a random process as much as the family is: two draws on the same texts
/// differ in a third of their transcripts and move the MiniLM drop by more than a point, so its figures
/// are the two draws' (pooled counts, mean drops).
const ASR_RECORDINGS: [&str; 2] = [
    "tests/fixtures/asr_channel_test.jsonl",
    "tests/fixtures/asr_channel_test_seed1.jsonl",
];

/// One recorded line: (id, severity, clean text, transcript).
type Recorded = (String, u8, String, String);

fn recording(path: &str) -> Vec<Recorded> {
    std::fs::read_to_string(common::root().join(path))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().to_string(),
                v["severity"].as_u64().unwrap() as u8,
                v["clean"].as_str().unwrap().to_string(),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// At the real channel's normalised WER (interpolated between the family's severities), the synthetic `asr`
/// family's operation mix is within the tolerances stated in corruptions/README.md of the real channel's.
#[test]
fn synthetic_asr_op_mix_matches_the_real_speech_channel() {
    use shakedown::corrupt::asr::lexicon::Lexicon;
    use shakedown::corrupt::opmix::{at_wer, opmix, OpMix};
    /// One figure of an operation mix (a share of its errors).
    type Figure = fn(&OpMix) -> f64;
    /// The count that figure is a share of.
    type Count = fn(&OpMix) -> usize;
    let edits: Count = |m| m.sub + m.del + m.ins;
    use shakedown::corrupt::{corrupt_text, parse_specs, Registry, RegistryOptions, Severity};
    let suite = shakedown::suite::Suite::load(&common::root().join("suites/spoken-requests")).unwrap();
    let registry = Registry::with_options(&RegistryOptions::for_suite(&suite).unwrap()).unwrap();
    let spec = parse_specs("asr:1-5", &registry).unwrap().remove(0);
    let lex = Lexicon::get().unwrap();
    let draws: Vec<Vec<Recorded>> = ASR_RECORDINGS.iter().map(|p| recording(p)).collect();
    let texts = |draw: &[Recorded]| draw.iter().map(|r| (r.0.clone(), r.1)).collect::<Vec<_>>();
    assert!(
        draws.iter().all(|d| texts(d) == texts(&draws[0])),
        "the draws record the same texts"
    );
    let rows = &draws[0];
    let mut severities: Vec<u8> = rows.iter().map(|r| r.1).collect();
    severities.dedup();
    assert!(severities.len() >= 3, "the recording needs three noise levels");
    for sev in severities {
        let at: Vec<&Recorded> = rows.iter().filter(|r| r.1 == sev).collect();
        // The channel's counts pooled over its draws, as the family's are over its seeds.
        let real = opmix(
            draws
                .iter()
                .flatten()
                .filter(|r| r.1 == sev)
                .map(|r| (r.2.as_str(), r.3.as_str())),
            lex,
        );
        let synthetic: Vec<OpMix> = Severity::all()
            .iter()
            .map(|&s| {
                let outs: Vec<(String, String)> = SEEDS
                    .iter()
                    .flat_map(|seed| {
                        let seed: u64 = seed.parse().unwrap();
                        at.iter().map(move |r| (seed, r))
                    })
                    .map(|(seed, r)| {
                        (
                            r.2.clone(),
                            corrupt_text(&registry, &spec, s, seed, &r.0, &r.2).unwrap().text,
                        )
                    })
                    .collect();
                opmix(outs.iter().map(|(a, b)| (a.as_str(), b.as_str())), lex)
            })
            .collect();
        let synth_at = |f: Figure| {
            let curve: Vec<(f64, f64)> = synthetic.iter().map(|m| (m.wer, f(m))).collect();
            at_wer(&curve, real.wer)
                .unwrap_or_else(|| panic!("channel {sev}: WER {} outside the family's range", real.wer))
        };
        // Each share with the count it is a share of, for its sampling error.
        let relative: [(&str, Figure, Count); 6] = [
            ("substitution share", OpMix::sub_share, edits),
            ("deletion share", OpMix::del_share, edits),
            ("insertion share", OpMix::ins_share, edits),
            ("share of errors on content words", OpMix::content_error_share, |m| {
                m.errors_on_clean
            }),
            ("share of multi-word errors", OpMix::multiword_share, |m| m.regions),
            (
                "share of function words in multi-word errors on content words",
                OpMix::multi_content_function_share,
                |m| m.multi_content_words,
            ),
        ];
        for (what, f, count) in relative {
            let (r, s) = (f(&real), synth_at(f));
            // The synthetic figure is read at the channel's WER between two severities: its count is the
            // nearer severity's, a fair size for the interpolated share.
            let n_synth = synthetic
                .iter()
                .min_by(|a, b| (a.wer - real.wer).abs().total_cmp(&(b.wer - real.wer).abs()))
                .map_or(0, count);
            let allowed = tolerance(r, count(&real), s, n_synth);
            let line = format!(
                "channel {sev} (WER {:.3}): {what} {s:.3} vs real {r:.3} (allowed {allowed:.3})",
                real.wer
            );
            println!("{line}");
            if (s - r).abs() > allowed {
                let known = OPMIX_KNOWN_GAPS.iter().find(|g| g.0 == sev && g.1 == what);
                match known {
                    Some(&(_, _, gap)) if (s - r).abs() <= gap + 0.01 => {
                        println!("  known gap, stated in corruptions/README.md")
                    }
                    Some(&(_, _, gap)) => panic!("{line}: the known gap of {gap:.3} grew"),
                    None => panic!("{line}"),
                }
            }
        }
        let (r, s) = (real.content_kept_share(), synth_at(OpMix::content_kept_share));
        assert!(
            (s - r).abs() <= 0.10,
            "channel {sev}: content words kept {s:.3} vs real {r:.3}"
        );
    }
}

/// Tolerance of an operation share (corruptions/README.md): 20 % of the real share, or, where the shares
/// are estimated from few events (deletions are 5-9 % of some 300 word edits per channel level), two standard
/// errors of the difference of the two proportions, whichever is larger. Two recordings of the same channel
/// on different texts differ by more than 20 % on such a share (deletion share at channel 1: 0.06 on the
/// calibration split, 0.087 on the test split), so a purely relative bound tests sampling noise.
fn tolerance(real: f64, n_real: usize, synthetic: f64, n_synthetic: usize) -> f64 {
    let variance = |p: f64, n: usize| if n == 0 { 0.0 } else { p * (1.0 - p) / n as f64 };
    let standard_error = (variance(real, n_real) + variance(synthetic, n_synthetic)).sqrt();
    (TOLERANCE_RELATIVE * real).max(2.0 * standard_error)
}

/// Relative tolerance of the operation shares.
const TOLERANCE_RELATIVE: f64 = 0.20;

/// Where the synthetic family misses the tolerance on the held-out recording, stated with the measured gap
/// in corruptions/README.md ("Speech: operation mix"): (channel severity, figure, |synthetic - real|). CI
/// fails when such a gap grows, or when a figure not listed here leaves its tolerance.
const OPMIX_KNOWN_GAPS: &[(u8, &str, f64)] = &[
    (1, "insertion share", 0.043),
    (
        1,
        "share of function words in multi-word errors on content words",
        0.053,
    ),
];

/// The same for the MiniLM accuracy drop: (channel severity, |synthetic - real| in points). None: every
/// channel level is within the 3 points.
const DROP_KNOWN_GAPS: &[(usize, f64)] = &[];

/// Seeds of the synthetic family, whose operation counts are pooled and whose drops are averaged: it is a
/// random process and its expected mix is what is compared, as the channel's two recorded draws are pooled.
/// On the 400 texts one seed's drop at channel 1 reads 5.8-7.5 points (the channel's two draws 7.8 and 7.0);
/// on the first 240 texts alone two draws of the channel read 8.3 and 9.6, which is why both sides pool.
const SEEDS: [&str; 4] = ["1", "2", "3", "4"];

/// A MiniLM prototype classifier on the spoken-requests suite loses as much accuracy under the synthetic `asr`
/// family as under the real channel at the same normalised WER (within 3 points): the channel's drop is the
/// mean of its draws', the family's read off its severity curve at the WER of the draw beside it, averaged
/// over SEEDS (seeds 1 and 2 run beside draw 0, 3 and 4 beside draw 1).
#[test]
fn synthetic_asr_drop_matches_the_real_speech_channel_for_minilm() {
    let n = recording(ASR_RECORDINGS[0])
        .iter()
        .filter(|r| r.1 == 1)
        .count()
        .to_string();
    let model = common::minilm_dir();
    let suite_args = [
        "--suite",
        "suites/spoken-requests",
        "--model",
        model.to_str().unwrap(),
        "--limit",
        &n,
    ];
    let draw_of = |i: usize| i * ASR_RECORDINGS.len() / SEEDS.len();
    let runs: Vec<_> = SEEDS
        .iter()
        .enumerate()
        .map(|(i, seed)| {
            let mut args = suite_args.to_vec();
            args.extend_from_slice(&["--seed", seed]);
            replayed_run(ASR_RECORDINGS[draw_of(i)], "asr:1-5,channel:1-3", &args)
        })
        .collect();
    let cells = |families: &[(String, Vec<serde_json::Value>)], family: &str| -> Vec<(f64, f64)> {
        cells_of(families, family)
            .iter()
            .map(|c| (c["mean_wer"].as_f64().unwrap(), c["drop"].as_f64().unwrap()))
            .collect()
    };
    // The channel cells of each run: its draw's, the same whatever the seed.
    let real: Vec<Vec<(f64, f64)>> = runs.iter().map(|r| cells(r, "channel")).collect();
    for (i, r) in real.iter().enumerate() {
        assert_eq!(
            r,
            &real[draw_of(i) * SEEDS.len() / ASR_RECORDINGS.len()],
            "a draw's replay is its own"
        );
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    for level in 0..real[0].len() {
        let per_draw: Vec<(f64, f64)> = (0..ASR_RECORDINGS.len())
            .map(|d| real[d * SEEDS.len() / ASR_RECORDINGS.len()][level])
            .collect();
        let per_seed: Vec<f64> = runs
            .iter()
            .zip(&real)
            .map(|(families, r)| {
                shakedown::corrupt::opmix::at_wer(&cells(families, "asr"), r[level].0)
                    .expect("channel WER inside the family's range")
            })
            .collect();
        let drop = mean(&per_draw.iter().map(|c| c.1).collect::<Vec<_>>());
        let wer = mean(&per_draw.iter().map(|c| c.0).collect::<Vec<_>>());
        let s = mean(&per_seed);
        let show = |v: &mut dyn Iterator<Item = f64>| v.map(|d| format!("{d:.1}")).collect::<Vec<_>>().join(", ");
        let line = format!(
            "channel {}: WER {wer:.3}, real drop {drop:.1} (draws {}), synthetic {s:.1} ({:+.1} points; seeds {})",
            level + 1,
            show(&mut per_draw.iter().map(|c| c.1)),
            s - drop,
            show(&mut per_seed.iter().copied()),
        );
        println!("{line}");
        if (s - drop).abs() > 3.0 {
            match DROP_KNOWN_GAPS.iter().find(|g| g.0 == level + 1) {
                Some(&(_, gap)) if (s - drop).abs() <= gap + 0.5 => {
                    println!("  known gap, stated in corruptions/README.md")
                }
                Some(&(_, gap)) => panic!("{line}: the known gap of {gap:.1} points grew"),
                None => panic!("{line}"),
            }
        }
    }
}
