// SPDX-License-Identifier: GPL-2.0

//! Order statistics of a handful of timings: median and quartiles for the sweep's R
//! repetitions, percentiles for the latency samples.

/// The value below which `p` percent of `sorted` lies, interpolated linearly between the two
/// closest ranks (the "type 7" estimator of R and NumPy's default), so that the quartiles of
/// five repetitions are not simply two of the samples. `sorted` must be sorted and non-empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

/// What the report says about a set of samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    /// `None` for no samples; NaNs are left out.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut s: Vec<f64> = samples.iter().copied().filter(|v| !v.is_nan()).collect();
        if s.is_empty() {
            return None;
        }
        s.sort_by(f64::total_cmp);
        Some(Summary {
            n: s.len(),
            min: s[0],
            q1: percentile(&s, 25.0),
            median: percentile(&s, 50.0),
            q3: percentile(&s, 75.0),
            p99: percentile(&s, 99.0),
            max: s[s.len() - 1],
        })
    }

    /// The interquartile range: the spread the report gives beside the median.
    pub fn iqr(&self) -> f64 {
        self.q3 - self.q1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(Summary::of(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(Summary::of(&[4.0, 1.0, 3.0, 2.0]).unwrap().median, 2.5);
        assert_eq!(Summary::of(&[7.0]).unwrap().median, 7.0);
    }

    #[test]
    fn quartiles_interpolate() {
        let s = Summary::of(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!(
            (s.min, s.q1, s.median, s.q3, s.max),
            (1.0, 2.0, 3.0, 4.0, 5.0)
        );
        assert_eq!(s.iqr(), 2.0);
        let s = Summary::of(&[1.0, 2.0]).unwrap();
        assert_eq!((s.q1, s.q3), (1.25, 1.75));
    }

    #[test]
    fn p99_of_a_hundred_and_one() {
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        let s = Summary::of(&v).unwrap();
        assert_eq!((s.median, s.p99, s.max), (50.0, 99.0, 100.0));
    }

    #[test]
    fn empty_and_nan() {
        assert!(Summary::of(&[]).is_none());
        assert!(Summary::of(&[f64::NAN]).is_none());
        assert_eq!(Summary::of(&[f64::NAN, 2.0]).unwrap().n, 1);
    }
}
