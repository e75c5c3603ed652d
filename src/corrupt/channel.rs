//! `channel`: a real noisy channel outside shakedown: any command that reads one line on stdin and writes
//! one line on stdout (a team's own OCR or speech pipeline, or `scripts/ocr_channel.py` /
//! `scripts/asr_channel.py`). The command runs through `sh -c`, once per severity, with `{severity}` in
//! it replaced by the level and `SHAKEDOWN_SEVERITY` set; it stays up for the whole run and gets the texts
//! one line at a time (newlines inside a text become spaces). A line that does not come back within the
//! timeout, a command that exits, or one that writes more lines than it reads (seen when an extra line
//! is already waiting as an answer is taken), is an error naming the command and what it printed on stderr.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;

use super::{Corrupted, Corruptor, Severity, Target};
use crate::error::{Error, Result};

/// Seconds a line may take when nothing else is configured.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;

/// How to reach the external channel.
#[derive(Clone, Debug)]
pub struct ChannelConfig {
    /// Shell command; `{severity}` is replaced by 1..5.
    pub command: String,
    /// Longest wait for one output line.
    pub timeout: Duration,
    /// Where the command was configured, for error messages ("--channel-cmd", "suite.toml: [channel] command").
    pub origin: String,
}

/// One running channel process.
struct Process {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<std::io::Result<String>>,
    stderr: Arc<Mutex<String>>,
    served: usize,
}

/// The external-command family.
pub struct Channel {
    config: ChannelConfig,
    running: Mutex<HashMap<u8, Process>>,
}

impl Channel {
    /// A channel over `config`; processes start on first use.
    pub fn new(config: ChannelConfig) -> Self {
        Channel {
            config,
            running: Mutex::new(HashMap::new()),
        }
    }

    fn command_for(&self, severity: Severity) -> String {
        self.config.command.replace("{severity}", &severity.level().to_string())
    }

    fn fail(&self, severity: Severity, what: String, stderr: &str) -> Error {
        let tail: String = {
            let s = stderr.trim();
            let start = s.char_indices().rev().nth(1500).map(|(i, _)| i).unwrap_or(0);
            s[start..].to_string()
        };
        let mut message = format!("channel command `{}` {what}", self.command_for(severity));
        if !tail.is_empty() {
            message.push_str(&format!("; its stderr ends with:\n{tail}"));
        }
        Error::input(&self.config.origin, message)
    }

    fn start(&self, severity: Severity) -> Result<Process> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(self.command_for(severity))
            .env("SHAKEDOWN_SEVERITY", severity.level().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.fail(severity, format!("could not be started: {e}"), ""))?;
        let (Some(stdin), Some(stdout), Some(mut stderr_pipe)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(Error::Internal("channel process without pipes".into()));
        };
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if s.len() > 64 * 1024 {
                        let cut = s.len() - 16 * 1024;
                        let cut = (cut..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                        s.drain(..cut);
                    }
                }
            }
        });
        Ok(Process {
            child,
            stdin,
            lines,
            stderr,
            served: 0,
        })
    }

    fn ask(&self, severity: Severity, text: &str) -> Result<String> {
        let mut running = self
            .running
            .lock()
            .map_err(|_| Error::Internal("channel lock poisoned".into()))?;
        let p = match running.entry(severity.level()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(self.start(severity)?),
        };
        let line: String = text
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        let sent = writeln!(p.stdin, "{line}").and_then(|_| p.stdin.flush());
        let answer = match sent {
            Err(e) => Err(format!(
                "stopped reading its input after {} lines, before the text {:?} ({e})",
                p.served,
                truncate(&line, 80)
            )),
            Ok(()) => match p.lines.recv_timeout(self.config.timeout) {
                // A line already waiting behind the answer means the command writes more lines than
                // it reads: every later answer would belong to another input.
                // Lines are counted as the process received them (one process per severity, shared by
                // every thread), not as the input file numbers them: the text names the line.
                Ok(Ok(_)) if p.lines.try_recv().is_ok() => Err(format!(
                    "wrote more than one line for the text {:?} (line {} it was sent): a channel must answer each line with exactly one line",
                    truncate(&line, 80),
                    p.served + 1
                )),
                Ok(Ok(out)) => Ok(out),
                Ok(Err(e)) => Err(format!("wrote output that could not be read as text: {e}")),
                Err(RecvTimeoutError::Timeout) => Err(format!(
                    "gave no output line within {:.1} s for the text {:?} (line {} it was sent)",
                    self.config.timeout.as_secs_f64(),
                    truncate(&line, 80),
                    p.served + 1
                )),
                Err(RecvTimeoutError::Disconnected) => {
                    let status = p.child.wait().map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                    Err(format!(
                        "exited ({status}) on the text {:?}, after answering {} lines",
                        truncate(&line, 80),
                        p.served
                    ))
                }
            },
        };
        match answer {
            Ok(out) => {
                p.served += 1;
                Ok(out.trim_end_matches('\r').to_string())
            }
            Err(what) => {
                let _ = p.child.kill();
                let _ = p.child.wait();
                std::thread::sleep(Duration::from_millis(50));
                let stderr = p.stderr.lock().map(|s| s.clone()).unwrap_or_default();
                running.remove(&severity.level());
                Err(self.fail(severity, what, &stderr))
            }
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.lock() {
            for (_, mut p) in running.drain() {
                let _ = p.child.kill();
                let _ = p.child.wait();
            }
        }
    }
}

impl Corruptor for Channel {
    fn family(&self) -> &str {
        "channel"
    }

    fn describe(&self) -> String {
        format!("external channel: `{}`", self.config.command)
    }

    fn target(&self) -> Option<Target> {
        None
    }

    fn corrupt(&self, text: &str, severity: Severity, _rng: &mut StdRng) -> Result<Corrupted> {
        let out = self.ask(severity, text)?;
        let edits = super::measure::edit_distance(&text.chars().collect::<Vec<_>>(), &out.chars().collect::<Vec<_>>());
        Ok(Corrupted {
            text: out,
            applied: edits,
            opportunities: text.chars().count(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn channel(command: &str, timeout: f64) -> Channel {
        Channel::new(ChannelConfig {
            command: command.into(),
            timeout: Duration::from_secs_f64(timeout),
            origin: "--channel-cmd".into(),
        })
    }

    #[test]
    fn pipes_lines_through_a_command_per_severity() {
        let c = channel("sed -u 's/l/1/g; s/$/ {severity}/'", 10.0);
        let mut rng = StdRng::seed_from_u64(0);
        let s3 = Severity::new(3).unwrap();
        assert_eq!(c.corrupt("pallet left", s3, &mut rng).unwrap().text, "pa11et 1eft 3");
        assert_eq!(c.corrupt("line\ntwo", s3, &mut rng).unwrap().text, "1ine two 3");
        let s5 = Severity::new(5).unwrap();
        assert_eq!(c.corrupt("hello", s5, &mut rng).unwrap().text, "he11o 5");
    }

    #[test]
    fn failures_name_the_command_and_show_its_stderr() {
        let mut rng = StdRng::seed_from_u64(0);
        let s1 = Severity::new(1).unwrap();
        let dead = channel("echo broken pipeline >&2; exit 3", 10.0);
        let e = dead.corrupt("x", s1, &mut rng).unwrap_err().to_string();
        assert!(e.contains("--channel-cmd") && e.contains("broken pipeline"), "{e}");
        let slow = channel("sleep 5", 0.3);
        let e = slow.corrupt("x", s1, &mut rng).unwrap_err().to_string();
        assert!(e.contains("no output line within 0.3 s"), "{e}");
        // Two lines for each line read: caught once an extra line has reached the reader by the time an
        // answer is taken. A loaded machine can starve the reader thread for a while, so the test gives
        // it a moment between inputs (a run's inputs come much faster; the check is then best effort,
        // and the backlog grows by a line per input).
        let chatty = channel("sed -u 'p'", 10.0);
        let e = (0..20)
            .find_map(|i| {
                std::thread::sleep(Duration::from_millis(20));
                chatty.corrupt(&format!("line {i}"), s1, &mut rng).err()
            })
            .expect("a channel writing two lines per input is an error")
            .to_string();
        assert!(e.contains("more than one line"), "{e}");
    }
}
