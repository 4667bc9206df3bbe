//! Benchmark-only load generator for `make bench` (bench/run.mjs): loopback
//! only, bounded in count and in time.
//!
//! `--target backend`: N create-recording requests, each for a distinct call
//! whose call, task (with `call_sid` in its attributes) and accepted
//! reservation for the token's worker are created first through the
//! simulator's control API, so strict authorization passes and idempotency
//! never short-circuits. The body is the plugin's own
//! (`CreateRecordingRequest::to_form`, customer leg, conversation target).
//!
//! `--target sim`: N `POST .../Calls/{CA}/Recordings.json` straight to the
//! simulator (distinct calls), to measure the simulator's own capacity.
//!
//! `--rate R` sends open-loop at R requests/s (latency measured from each
//! request's scheduled time, so a generator that falls behind shows it);
//! `--rate 0` is closed-loop with `--concurrency` workers. The simulator's
//! `latencyMs` is set for the timed phase and reset to 0 afterwards.
//! Prints one JSON object on stdout.

use dual_channel_recording::api::{CreateRecordingRequest, TargetKind, CREATE_RECORDING_PATH};
use dual_channel_recording::insights::RecordedLeg;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const AUTH: (&str, &str) = (ACCOUNT, "sim-auth-token");
const WORKER: &str = "WK00000000000000000000000000000b01";

struct Args {
    target: String,
    sim: String,
    backend: String,
    n: usize,
    rate: f64,
    concurrency: usize,
    latency_ms: u64,
    time_limit: Duration,
    run: u32,
    token: String,
}

fn parse_args() -> Args {
    let mut a = Args {
        target: "backend".into(),
        sim: String::new(),
        backend: String::new(),
        n: 1000,
        rate: 0.0,
        concurrency: 256,
        latency_ms: 100,
        time_limit: Duration::from_secs(60),
        run: 1,
        token: "bench-token".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--target" => a.target = v,
            "--sim" => a.sim = v,
            "--backend" => a.backend = v,
            "--n" => a.n = v.parse().expect("--n"),
            "--rate" => a.rate = v.parse().expect("--rate"),
            "--concurrency" => a.concurrency = v.parse().expect("--concurrency"),
            "--latency-ms" => a.latency_ms = v.parse().expect("--latency-ms"),
            "--time-limit-s" => {
                a.time_limit = Duration::from_secs(v.parse().expect("--time-limit-s"))
            }
            "--run" => a.run = v.parse().expect("--run"),
            "--token" => a.token = v,
            _ => panic!("unknown argument {k}"),
        }
    }
    for url in [&a.sim, &a.backend] {
        let loopback = url.starts_with("http://127.") || url.starts_with("http://localhost");
        if !url.is_empty() && !loopback {
            panic!("loopback only: {url}");
        }
    }
    assert!(a.n <= 200_000, "--n is bounded to 200000");
    a
}

/// (ms from scheduled send to answer, ms from actual send to answer, outcome,
/// s from the timed phase's start to the answer)
type Sample = (f64, f64, Result<u16, String>, f64);

fn sid(prefix: &str, run: u32, i: usize) -> String {
    format!("{prefix}{run:08x}{i:024x}")
}

async fn control(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: serde_json::Value,
) {
    for attempt in 0..5 {
        match client
            .request(method.clone(), &url)
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => panic!("{url} answered {}", r.status()),
            Err(e) if attempt < 4 => {
                eprintln!("retrying {url}: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{url}: {e}"),
        }
    }
}

/// Calls, tasks and accepted reservations for indices 0..n (and the token).
async fn setup(client: &reqwest::Client, a: &Args) {
    let sim = a.sim.clone();
    control(
        client,
        reqwest::Method::POST,
        format!("{sim}/_sim/tokens"),
        json!({
            "token": a.token, "workerSid": WORKER, "identity": "bench_worker", "valid": true,
            "expiresInSec": 3600, "roles": ["agent"]
        }),
    )
    .await;
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..32 {
        let client = client.clone();
        let next = next.clone();
        let sim = sim.clone();
        let (n, run) = (a.n + 1, a.run);
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let call = sid("CA", run, i);
                let task = sid("WT", run, i);
                control(&client, reqwest::Method::POST, format!("{sim}/_sim/calls"), json!({
                    "callSid": call, "status": "in-progress", "from": "+15550000001", "to": "+15550000002"
                }))
                .await;
                control(&client, reqwest::Method::PUT, format!("{sim}/_sim/tasks/{task}"), json!({
                    "attributes": {"call_sid": call, "direction": "inbound", "conference": {"sid": sid("CF", run, i)}}
                }))
                .await;
                control(&client, reqwest::Method::POST, format!("{sim}/_sim/reservations"), json!({
                    "taskSid": task, "reservationSid": sid("WR", run, i), "workerSid": WORKER, "status": "accepted"
                }))
                .await;
            }
        }));
    }
    for w in workers {
        w.await.expect("setup worker");
    }
}

/// One request for index `i`; Ok(status) or Err(text).
async fn one(client: &reqwest::Client, a: &Args, i: usize) -> Result<u16, String> {
    let call = sid("CA", a.run, i);
    let req = if a.target == "sim" {
        client
            .post(format!(
                "{}/2010-04-01/Accounts/{ACCOUNT}/Calls/{call}/Recordings.json",
                a.sim
            ))
            .basic_auth(AUTH.0, Some(AUTH.1))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("RecordingChannels=dual")
    } else {
        let body = CreateRecordingRequest {
            call_sid: call,
            token: a.token.clone(),
            task_sid: Some(sid("WT", a.run, i)),
            reservation_sid: Some(sid("WR", a.run, i)),
            leg: Some(RecordedLeg::Customer),
            target: Some(TargetKind::Conversation),
            accepted_at: Some(1_700_000_000_000),
            conference_sid: None,
            customer_call_sid: None,
        }
        .to_form();
        client
            .post(format!("{}{CREATE_RECORDING_PATH}", a.backend))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let _ = r.bytes().await;
            Ok(status)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// CPU time of this process so far (user + system), in ms (Linux /proc).
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // fields 14 and 15 of stat; `after` starts at field 3
    (ticks(11) + ticks(12)) * 10.0
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let a = Arc::new(parse_args());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let setup_start = Instant::now();
    setup(&client, &a).await;
    let setup_s = setup_start.elapsed().as_secs_f64();

    // Warm-up on index n (not timed): fills the backend's token cache and
    // opens connections, with the simulator answering at once.
    let warm = one(&client, &a, a.n).await;
    if a.target == "backend" && warm != Ok(200) {
        panic!("warm-up request answered {warm:?}");
    }
    control(
        &client,
        reqwest::Method::POST,
        format!("{}/_sim/faults", a.sim),
        json!({"latencyMs": a.latency_ms}),
    )
    .await;

    let cpu_start = cpu_ms();
    let start = Instant::now();
    let deadline = start + a.time_limit;
    let results: Arc<std::sync::Mutex<Vec<Sample>>> =
        Arc::new(std::sync::Mutex::new(Vec::with_capacity(a.n)));
    let mut handles = Vec::new();
    if a.rate > 0.0 {
        // Open loop, with at most 8 x concurrency in flight.
        let permits = Arc::new(tokio::sync::Semaphore::new(a.concurrency * 8));
        for i in 0..a.n {
            let scheduled = start + Duration::from_secs_f64(i as f64 / a.rate);
            if scheduled > deadline {
                break;
            }
            tokio::time::sleep_until(scheduled.into()).await;
            let permit = permits.clone().acquire_owned().await.expect("semaphore");
            let (client, a2, results) = (client.clone(), a.clone(), results.clone());
            handles.push(tokio::spawn(async move {
                let sent = Instant::now();
                let r = one(&client, &a2, i).await;
                let end = Instant::now();
                drop(permit);
                let from_sched = (end - scheduled).as_secs_f64() * 1e3;
                let from_sent = (end - sent).as_secs_f64() * 1e3;
                results.lock().unwrap().push((
                    from_sched,
                    from_sent,
                    r,
                    (end - start).as_secs_f64(),
                ));
            }));
        }
    } else {
        let next = Arc::new(AtomicUsize::new(0));
        for _ in 0..a.concurrency {
            let (client, a2, results, next) =
                (client.clone(), a.clone(), results.clone(), next.clone());
            handles.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= a2.n || Instant::now() > deadline {
                        break;
                    }
                    let sent = Instant::now();
                    let r = one(&client, &a2, i).await;
                    let ms = sent.elapsed().as_secs_f64() * 1e3;
                    let at = start.elapsed().as_secs_f64();
                    results.lock().unwrap().push((ms, ms, r, at));
                }
            }));
        }
    }
    for h in handles {
        let _ = tokio::time::timeout_at((deadline + Duration::from_secs(35)).into(), h).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu_used_ms = cpu_ms() - cpu_start;
    control(
        &client,
        reqwest::Method::POST,
        format!("{}/_sim/faults", a.sim),
        json!({"latencyMs": 0}),
    )
    .await;

    let results = results.lock().unwrap();
    let mut ok_sched: Vec<f64> = Vec::new();
    let mut ok_sent: Vec<f64> = Vec::new();
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    let mut done_at: Vec<f64> = Vec::new();
    for (sched, sent, r, at) in results.iter() {
        let key = match r {
            Ok(s) => s.to_string(),
            Err(e) => format!("error: {}", e.chars().take(80).collect::<String>()),
        };
        *statuses.entry(key).or_default() += 1;
        if matches!(r, Ok(s) if (200..300).contains(s)) {
            ok_sched.push(*sched);
            ok_sent.push(*sent);
            done_at.push(*at);
        }
    }
    ok_sched.sort_by(f64::total_cmp);
    ok_sent.sort_by(f64::total_cmp);
    // Steady state: successful completions per second between the 20th and
    // the 80th percentile of completion times (no ramp-up, no tail).
    done_at.sort_by(f64::total_cmp);
    let steady = if done_at.len() >= 10 {
        let (a, b) = (pct(&done_at, 20.0), pct(&done_at, 80.0));
        let inside = done_at.iter().filter(|t| **t >= a && **t <= b).count();
        if b > a {
            inside as f64 / (b - a)
        } else {
            f64::NAN
        }
    } else {
        f64::NAN
    };
    let summary = |v: &Vec<f64>| json!({"min": pct(v, 0.0), "p50": pct(v, 50.0), "p90": pct(v, 90.0), "p99": pct(v, 99.0), "max": pct(v, 100.0)});
    let out = json!({
        "target": a.target,
        "mode": if a.rate > 0.0 { "open" } else { "closed" },
        "rate": a.rate,
        "concurrency": a.concurrency,
        "requested": a.n,
        "completed": results.len(),
        "ok": ok_sched.len(),
        "statuses": statuses,
        "elapsedS": elapsed,
        "throughput": ok_sched.len() as f64 / elapsed,
        "steadyThroughput": steady,
        "setupS": setup_s,
        "latencyMs": summary(&ok_sched),
        "latencyFromSendMs": summary(&ok_sent),
        "simLatencyMs": a.latency_ms,
        "loadgenCpuMs": cpu_used_ms,
    });
    println!("{out}");
}
