//! Cascades and the author graph of one window.
//!
//! The posts of a window form trees: a reply hangs under the post it answers
//! (`parent_id`), a quote under the post it quotes (`quote_of`), a repost under the
//! original (`repost_of`: providers name only the original). A post's parent is the
//! first of those three that was collected in the same (trend, window); a post with
//! none is a root. A repost of one's own post is not a link (its author gets nothing
//! for it): it stands alone. Per cascade we measure its size, its depth and its
//! structural virality (Goel, Anderson, Hofman and Watts, Management Science 2016),
//! the mean distance between two distinct posts of the tree taken as undirected. It
//! is computed in O(n): the distance summed over all pairs is
//! W = Σ over edges of s·(n−s), s being the size of the subtree under the edge
//! (each pair is separated by exactly the edges on its path), and the mean is
//! 2W / (n(n−1)).
//!
//! Links in the data can form a cycle only when the data is wrong (a post cannot
//! answer a later one); such a cycle is cut at its first post in key order, which
//! becomes a root, and counted in the summary.

/// No post: an absent link.
pub const NONE: u32 = u32::MAX;

/// A post of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    /// The author, an index into the window's authors.
    pub author: u32,
    /// The posts it answers, quotes and reposts, as indices into the window's nodes,
    /// or [`NONE`] when absent or not collected in the window.
    pub links: [u32; 3],
}

/// Slot of `repost_of` in [`Node::links`].
pub const REPOST: usize = 2;

/// An author's cascades: those rooted at their posts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AuthorCascades {
    /// The largest depth (links on the longest root-to-leaf path).
    pub depth: i64,
    /// Posts in those cascades other than the roots.
    pub size: i64,
    /// The largest structural virality.
    pub virality: f64,
}

/// The cascades of a window, per author.
#[derive(Debug, Clone, Default)]
pub struct Cascades {
    pub per_author: Vec<AuthorCascades>,
    pub cycles_broken: u64,
}

/// The cascade parent of each node.
fn parents(nodes: &[Node]) -> Vec<u32> {
    nodes
        .iter()
        .enumerate()
        .map(|(v, node)| {
            node.links
                .iter()
                .enumerate()
                .find(|&(slot, &l)| {
                    l != NONE
                        && l as usize != v
                        && (l as usize) < nodes.len()
                        && !(slot == REPOST && nodes[l as usize].author == node.author)
                })
                .map_or(NONE, |(_, &l)| l)
        })
        .collect()
}

/// Measures every cascade of the window and sums them per author.
pub fn cascades(nodes: &[Node], authors: usize) -> Cascades {
    let n = nodes.len();
    let mut parent = parents(nodes);
    // Children in one array (CSR): the children of v are kids[start[v]..start[v+1]].
    let mut start = vec![0u32; n + 1];
    for &p in &parent {
        if p != NONE {
            start[p as usize + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut kids = vec![0u32; start[n] as usize];
    for (v, &p) in parent.iter().enumerate() {
        if p != NONE {
            kids[fill[p as usize] as usize] = v as u32;
            fill[p as usize] += 1;
        }
    }

    let mut out = Cascades { per_author: vec![AuthorCascades::default(); authors], cycles_broken: 0 };
    let mut seen = vec![false; n];
    let mut depth = vec![0i64; n];
    let mut sub = vec![0u64; n];
    let mut order: Vec<u32> = Vec::new();
    let mut measure = |root: usize, parent: &[u32], seen: &mut [bool], out: &mut Cascades| {
        order.clear();
        order.push(root as u32);
        seen[root] = true;
        depth[root] = 0;
        let mut head = 0;
        let mut deepest = 0;
        while head < order.len() {
            let u = order[head] as usize;
            head += 1;
            deepest = deepest.max(depth[u]);
            for &c in &kids[start[u] as usize..start[u + 1] as usize] {
                // A cut cycle leaves its new root among its old parent's children.
                if parent[c as usize] as usize == u && !seen[c as usize] {
                    seen[c as usize] = true;
                    depth[c as usize] = depth[u] + 1;
                    order.push(c);
                }
            }
        }
        let size = order.len() as u64;
        let mut pairs: u128 = 0;
        for &v in order.iter().rev() {
            let v = v as usize;
            sub[v] += 1;
            if v != root {
                sub[parent[v] as usize] += sub[v];
                pairs += u128::from(sub[v]) * u128::from(size - sub[v]);
            }
        }
        for &v in &order {
            sub[v as usize] = 0;
        }
        let virality = if size > 1 { 2.0 * pairs as f64 / (size as f64 * (size - 1) as f64) } else { 0.0 };
        let a = &mut out.per_author[nodes[root].author as usize];
        a.depth = a.depth.max(deepest);
        a.size += size as i64 - 1;
        a.virality = a.virality.max(virality);
    };
    for v in 0..n {
        if parent[v] == NONE {
            measure(v, &parent, &mut seen, &mut out);
        }
    }
    // What no root reached hangs on a cycle: walk up to it and cut it.
    let mut on_walk = vec![u32::MAX; n];
    for v in 0..n {
        if seen[v] {
            continue;
        }
        let mut u = v;
        while on_walk[u] != v as u32 {
            on_walk[u] = v as u32;
            u = parent[u] as usize;
        }
        // u is on the cycle: find its first node.
        let mut first = u;
        let mut w = parent[u] as usize;
        while w != u {
            first = first.min(w);
            w = parent[w] as usize;
        }
        parent[first] = NONE;
        out.cycles_broken += 1;
        measure(first, &parent, &mut seen, &mut out);
    }
    out
}

/// The weighted edges of the author graph: from A to B, the number of A's posts that
/// answer, quote or repost a post of B collected in the window. Self-links are left
/// out. Sorted by (from, to).
pub fn author_edges(nodes: &[Node]) -> Vec<(u32, u32, f64)> {
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for node in nodes {
        let mut targets = [NONE; 3];
        for (slot, &l) in node.links.iter().enumerate() {
            if l == NONE || l as usize >= nodes.len() {
                continue;
            }
            let to = nodes[l as usize].author;
            if to != node.author && !targets[..slot].contains(&to) {
                targets[slot] = to;
                pairs.push((node.author, to));
            }
        }
    }
    pairs.sort_unstable();
    let mut edges: Vec<(u32, u32, f64)> = Vec::new();
    for (a, b) in pairs {
        match edges.last_mut() {
            Some(e) if e.0 == a && e.1 == b => e.2 += 1.0,
            _ => edges.push((a, b, 1.0)),
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(author: u32, parent: u32, quote: u32, repost: u32) -> Node {
        Node { author, links: [parent, quote, repost] }
    }

    #[test]
    fn star_of_n_posts_has_virality_two_n_minus_one_over_n() {
        for n in [2usize, 3, 5, 10, 101, 1000] {
            // A root and n-1 replies to it, each by its own author.
            let nodes: Vec<Node> = (0..n)
                .map(|i| if i == 0 { node(0, NONE, NONE, NONE) } else { node(i as u32, 0, NONE, NONE) })
                .collect();
            let c = cascades(&nodes, n);
            let expected = 2.0 * (n as f64 - 1.0) / n as f64;
            assert!((c.per_author[0].virality - expected).abs() < 1e-12, "n={n}: {}", c.per_author[0].virality);
            assert_eq!(c.per_author[0].depth, i64::from(n > 1));
            assert_eq!(c.per_author[0].size, n as i64 - 1);
        }
    }

    #[test]
    fn chain_of_n_posts_has_virality_n_plus_one_over_three() {
        for n in [2usize, 3, 4, 7, 100, 2000] {
            let nodes: Vec<Node> = (0..n)
                .map(|i| if i == 0 { node(0, NONE, NONE, NONE) } else { node(i as u32 % 2, NONE, i as u32 - 1, NONE) })
                .collect();
            let c = cascades(&nodes, 2);
            let expected = (n as f64 + 1.0) / 3.0;
            assert!((c.per_author[0].virality - expected).abs() < 1e-9, "n={n}: {}", c.per_author[0].virality);
            assert_eq!(c.per_author[0].depth, n as i64 - 1);
            assert_eq!(c.per_author[1], AuthorCascades::default(), "author 1 roots nothing");
        }
    }

    #[test]
    fn a_lone_post_is_a_cascade_of_depth_and_virality_zero() {
        let c = cascades(&[node(0, NONE, NONE, NONE)], 1);
        assert_eq!(c.per_author[0], AuthorCascades { depth: 0, size: 0, virality: 0.0 });
    }

    #[test]
    fn reply_wins_over_quote_and_a_self_repost_stands_alone() {
        // 0 (author 0) <- 1 replies to 0 and quotes 2; 2 (author 1) root; 3 is author 0's
        // repost of its own post 0; 4 (author 1) reposts 0.
        let nodes = [
            node(0, NONE, NONE, NONE),
            node(2, 0, 2, NONE),
            node(1, NONE, NONE, NONE),
            node(0, NONE, NONE, 0),
            node(1, NONE, NONE, 0),
        ];
        let c = cascades(&nodes, 3);
        assert_eq!(c.per_author[0].size, 2, "the reply and author 1's repost");
        assert_eq!(c.per_author[0].depth, 1);
        assert_eq!(c.per_author[1], AuthorCascades::default());
        // Edges: 2->0 and 2->1 from the reply that quotes, 1->0 from the repost; no 0->0.
        assert_eq!(author_edges(&nodes), vec![(1, 0, 1.0), (2, 0, 1.0), (2, 1, 1.0)]);
    }

    #[test]
    fn a_cycle_is_cut_at_its_first_post() {
        // 0 -> 1 -> 2 -> 0, and 3 replies to 2.
        let nodes = [node(0, 1, NONE, NONE), node(1, 2, NONE, NONE), node(2, 0, NONE, NONE), node(3, 2, NONE, NONE)];
        let c = cascades(&nodes, 4);
        assert_eq!(c.cycles_broken, 1);
        // Post 0 becomes the root: 0 <- 2 <- {1, 3}; W = 3·1 + 1·3 + 1·3 = 9.
        assert_eq!(c.per_author[0], AuthorCascades { depth: 2, size: 3, virality: 2.0 * 9.0 / 12.0 });
    }

    #[test]
    fn repeated_links_weigh_once_per_post_and_add_up_over_posts() {
        let nodes = [node(0, NONE, NONE, NONE), node(1, 0, 0, NONE), node(1, 0, NONE, NONE), node(0, 0, NONE, NONE)];
        assert_eq!(author_edges(&nodes), vec![(1, 0, 2.0)]);
    }
}
