//! Ranking quality of a score.

/// Area under the ROC curve: the probability that a random late invoice scores above a random
/// on-time one, ties counting one half (average ranks, Mann-Whitney). NaN when one class is
/// missing, since the area is then undefined.
pub fn roc_auc(scores_and_labels: &[(f64, bool)]) -> f64 {
    let mut sorted: Vec<(f64, bool)> = scores_and_labels.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = sorted.iter().filter(|(_, l)| *l).count() as f64;
    let negatives = sorted.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            j += 1;
        }
        // Ranks i+1..=j shared by the tie group: each gets their mean.
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += mean_rank * sorted[i..j].iter().filter(|(_, l)| *l).count() as f64;
        i = j;
    }
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}
