//! A small multinomial logistic regression over sparse binary features (hashed strings), trained
//! in-process with stochastic gradient descent. Deterministic: the same examples give the same
//! weights. Used for the intent and the language of a message.

use std::collections::HashMap;

/// A feature: the 64-bit FNV-1a hash of its name.
pub type Feature = u64;

/// Hashes a feature name.
pub fn feature(name: &str) -> Feature {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainSettings {
    /// Passes over the examples.
    pub epochs: usize,
    /// The first pass's learning rate; later passes decay it.
    pub learning_rate: f32,
    /// L2 penalty per update.
    pub l2: f32,
}

impl Default for TrainSettings {
    fn default() -> Self {
        // Chosen on the held-out set and checked on the blind one (docs/benchmarks.md).
        Self {
            epochs: 10,
            learning_rate: 3.0,
            l2: 3e-6,
        }
    }
}

/// The trained model.
#[derive(Debug, Clone)]
pub struct LinearModel {
    classes: usize,
    rows: HashMap<Feature, u32>,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl LinearModel {
    /// Trains on `examples` (features, class index below `classes`).
    pub fn train(
        classes: usize,
        examples: &[(Vec<Feature>, usize)],
        settings: TrainSettings,
    ) -> Self {
        let mut rows: HashMap<Feature, u32> = HashMap::new();
        let indexed: Vec<(Vec<u32>, usize)> = examples
            .iter()
            .map(|(fs, y)| {
                let idx = fs
                    .iter()
                    .map(|f| {
                        let next = u32::try_from(rows.len()).unwrap_or(u32::MAX);
                        *rows.entry(*f).or_insert(next)
                    })
                    .collect();
                (idx, *y)
            })
            .collect();
        let mut weights = vec![0f32; rows.len() * classes];
        let mut bias = vec![0f32; classes];
        let mut order: Vec<usize> = (0..indexed.len()).collect();
        let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut probs = vec![0f32; classes];
        for epoch in 0..settings.epochs {
            // Fisher-Yates with a fixed xorshift: deterministic shuffles.
            for i in (1..order.len()).rev() {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let j = (rng % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            let lr = settings.learning_rate / (1.0 + epoch as f32 * 0.35);
            for &e in &order {
                let (fs, y) = &indexed[e];
                if fs.is_empty() {
                    continue;
                }
                let x = 1.0 / (fs.len() as f32).sqrt();
                scores(
                    classes,
                    &weights,
                    &bias,
                    fs.iter().map(|r| *r as usize),
                    x,
                    &mut probs,
                );
                softmax(&mut probs);
                for (k, p) in probs.iter().enumerate() {
                    let g = p - if k == *y { 1.0 } else { 0.0 };
                    bias[k] -= lr * g * 0.1;
                    for r in fs {
                        let w = &mut weights[*r as usize * classes + k];
                        *w -= lr * (g * x + settings.l2 * *w);
                    }
                }
            }
        }
        Self {
            classes,
            rows,
            weights,
            bias,
        }
    }

    /// The probability of each class for `features` (unknown features are ignored).
    pub fn predict(&self, features: &[Feature]) -> Vec<f32> {
        let known: Vec<usize> = features
            .iter()
            .filter_map(|f| self.rows.get(f).map(|r| *r as usize))
            .collect();
        let mut probs = vec![0f32; self.classes];
        let x = 1.0 / (features.len().max(1) as f32).sqrt();
        scores(
            self.classes,
            &self.weights,
            &self.bias,
            known.into_iter(),
            x,
            &mut probs,
        );
        softmax(&mut probs);
        probs
    }

    /// Features it knows.
    pub fn vocabulary(&self) -> usize {
        self.rows.len()
    }
}

fn scores(
    classes: usize,
    weights: &[f32],
    bias: &[f32],
    rows: impl Iterator<Item = usize>,
    x: f32,
    out: &mut [f32],
) {
    out.copy_from_slice(bias);
    for r in rows {
        let w = &weights[r * classes..(r + 1) * classes];
        for (o, w) in out.iter_mut().zip(w) {
            *o += w * x;
        }
    }
}

fn softmax(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

/// The index and value of the largest element.
pub fn argmax(v: &[f32]) -> (usize, f32) {
    v.iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, p)| {
            if p > best.1 { (i, p) } else { best }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_separable_problem_and_is_deterministic() {
        let ex = |names: &[&str], y| (names.iter().map(|n| feature(n)).collect(), y);
        let examples = vec![
            ex(&["red", "apple"], 0),
            ex(&["red", "cherry"], 0),
            ex(&["green", "pear"], 1),
            ex(&["green", "lime"], 1),
        ];
        let m = LinearModel::train(2, &examples, TrainSettings::default());
        let p = m.predict(&[feature("red"), feature("unseen")]);
        assert!(p[0] > 0.8, "{p:?}");
        let again = LinearModel::train(2, &examples, TrainSettings::default());
        assert_eq!(m.weights, again.weights);
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), (1, 0.7));
    }
}
