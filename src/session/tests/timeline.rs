//! Random timelines: no panic, and every task winds down.

use super::*;

/// Random timelines over a small alphabet of events: the core must never
/// panic, and at the end of each timeline all tasks end and leave it idle.
#[test]
fn random_timelines_never_panic_and_always_wind_down() {
    let mut rng = Jitter::new(7);
    let mut pick = |n: usize| (rng.unit() * n as f64) as usize;
    let tasks = [T1, T2];
    let calls = [Some(C1), Some(A1), Some(A2), Some(B1), None];
    for round in 0..300 {
        let channel = if round % 2 == 0 { "customer" } else { "worker" };
        let mut c = core(channel);
        let mut outstanding: Vec<u64> = Vec::new();
        let mut set_timers: Vec<u64> = Vec::new();
        for _ in 0..40 {
            let t = tasks[pick(2)];
            let event = match pick(9) {
                0 => {
                    let direction = ["inbound", "outbound"][pick(2)];
                    let internal = pick(4) == 0;
                    Event::Flex(task(
                        t,
                        R1,
                        json!({"direction": direction, "client_call": internal}),
                    ))
                }
                1 => Event::Flex(conf(
                    t,
                    (0..pick(4))
                        .map(|_| {
                            let kind = ["customer", "worker"][pick(2)];
                            p(
                                kind,
                                ["joined", "left"][pick(2)],
                                calls[pick(5)],
                                if kind == "worker" { Some(ME) } else { None },
                            )
                        })
                        .collect(),
                )),
                2 => Event::Flex(active(calls[pick(5)])),
                3 => Event::Flex(FlexEvent::Hangup { task_sid: t.into() }),
                4 => Event::Flex(FlexEvent::Complete { task_sid: t.into() }),
                5 => Event::Flex(FlexEvent::Ended {
                    task_sid: t.into(),
                    reason: "canceled".into(),
                }),
                6 if !set_timers.is_empty() => Event::Timer {
                    id: set_timers.remove(pick(set_timers.len())),
                },
                7 if !outstanding.is_empty() => {
                    let request = outstanding.remove(pick(outstanding.len()));
                    let answer = match pick(4) {
                        0 => ok(C1, "RE1", false),
                        1 => Answer::Network("x".into()),
                        2 => Answer::http(503, "{"),
                        _ => Answer::http(403, "{}"),
                    };
                    Event::Answer { request, answer }
                }
                _ => Event::Flex(active(None)),
            };
            for cmd in c.handle(event) {
                match cmd {
                    Command::Send { request, .. } => outstanding.push(request),
                    Command::SetTimer { id, .. } => set_timers.push(id),
                    Command::CancelTimer { id } => set_timers.retain(|t| *t != id),
                    _ => {}
                }
            }
        }
        for t in tasks {
            c.handle(Event::Flex(FlexEvent::Ended {
                task_sid: t.into(),
                reason: "completed".into(),
            }));
        }
        for request in outstanding {
            c.handle(Event::Answer {
                request,
                answer: Answer::http(403, ""),
            });
        }
        assert!(c.followed().is_empty());
        // Only link retries may remain; they end when answered.
        let mut guard = 0;
        while !c.idle() && guard < 50 {
            guard += 1;
            for id in set_timers.clone() {
                for cmd in c.handle(Event::Timer { id }) {
                    if let Command::Send { request, .. } = cmd {
                        c.handle(Event::Answer {
                            request,
                            answer: Answer::http(403, ""),
                        });
                    }
                }
            }
        }
        assert!(c.idle(), "round {round}");
    }
}
