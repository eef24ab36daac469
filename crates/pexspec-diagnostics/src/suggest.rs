//! "Did you mean": the known name closest to a misspelt one.

/// The candidate most similar to `word` (Jaro-Winkler), if its similarity is above
/// `threshold` (0.8 catches a dropped or swapped letter; 0.85 is stricter). Ties go to the
/// later candidate.
pub fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    threshold: f64,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > threshold)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_a_typo_and_refuses_a_stranger() {
        let names = ["management_node", "management_station", "regions"];
        assert_eq!(
            closest("managment_node", names, 0.8),
            Some("management_node")
        );
        assert_eq!(closest("zzz", names, 0.8), None);
    }
}
