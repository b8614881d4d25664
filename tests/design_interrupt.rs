//! Ctrl-C during a design run stops it between generations with the state of the last
//! finished generation saved, and resuming from that state gives the uninterrupted run (its
//! own process: the interrupt flag is process-wide).

use coercive::design::cmaes::{Cmaes, CmaesConfig};
use coercive::design::ga::{Ga, GaConfig};
use coercive::design::{Bounds, DesignError, Optimiser, Search, Stop, drive};

fn sphere(x: &[f64]) -> f64 {
    x.iter().map(|v| (v - 0.25).powi(2)).sum()
}

fn searches() -> Vec<Search> {
    let b = Bounds::new(vec![-1.0; 4], vec![1.0; 4]).unwrap();
    vec![
        Search::Ga(Ga::new(b.clone(), GaConfig::default(), 9).unwrap()),
        Search::Cmaes(Cmaes::new(b, CmaesConfig::default(), 9).unwrap()),
    ]
}

#[test]
fn interrupted_design_keeps_its_last_generation_and_resumes_exactly() {
    coercive::progress::set_quiet(true);
    let dir = tempfile::tempdir().unwrap();
    for (mut whole, mut cut) in searches().into_iter().zip(searches()) {
        let all = |xs: &[Vec<f64>]| Ok::<_, DesignError>(xs.iter().map(|x| sphere(x)).collect());
        assert_eq!(
            drive(&mut whole, 20, None, "whole", all).unwrap(),
            Stop::Done
        );

        let state = dir.path().join(format!("{}.json", cut.kind()));
        let mut calls = 0;
        let stop = drive(&mut cut, 20, Some(&state), "cut", |xs: &[Vec<f64>]| {
            calls += 1;
            if calls == 8 {
                coercive::interrupt::request(); // Ctrl-C while generation 8 is evaluated
            }
            Ok::<_, DesignError>(xs.iter().map(|x| sphere(x)).collect())
        })
        .unwrap();
        assert_eq!(stop, Stop::Interrupted);
        coercive::interrupt::reset();
        let mut resumed = Search::load(&state).unwrap();
        assert_eq!(
            resumed.generation(),
            7,
            "the last finished generation is kept"
        );
        assert_eq!(resumed, cut, "the saved state is the one in memory");
        drive(&mut resumed, 20, Some(&state), "resumed", all).unwrap();
        assert_eq!(resumed, whole, "{}: resumed = uninterrupted", whole.kind());
    }
}
