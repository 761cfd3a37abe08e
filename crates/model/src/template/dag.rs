//! The step graph: cycle detection (naming the cycle) and dependency levels.
//! Both are linear in steps + edges, so a 10,000-step template validates in milliseconds.

/// Find one cycle, as step indexes with the first repeated at the end (`a -> b -> c -> a`).
/// `parents[i]` lists the steps that step `i` depends on.
pub fn find_cycle(parents: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let n = parents.len();
    // Walk edges child -> parent; a cycle that way is the same cycle reversed, so it is printed
    // back in dependency order at the end.
    let mut mark = vec![Mark::New; n];
    for start in 0..n {
        if mark[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next parent to visit).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::OnPath;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&parent) = parents[node].get(*next) {
                *next += 1;
                match mark[parent] {
                    Mark::New => {
                        mark[parent] = Mark::OnPath;
                        stack.push((parent, 0));
                    }
                    Mark::OnPath => {
                        let from = stack.iter().position(|&(v, _)| v == parent).unwrap_or(0);
                        // stack[from..] is parent <- ... <- node in dependency terms, i.e.
                        // node depends on parent: reverse it to read "first runs before".
                        let mut cycle: Vec<usize> = stack[from..].iter().map(|&(v, _)| v).collect();
                        cycle.reverse();
                        // Start at the step listed first in the template, for a stable message.
                        let first = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
                        cycle.rotate_left(first);
                        cycle.push(cycle[0]);
                        return Some(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                mark[node] = Mark::Done;
                stack.pop();
            }
        }
    }
    None
}

/// Group steps by level: level 0 has no parents, a step's level is one more than its deepest
/// parent's. The graph must be acyclic. Steps keep their template order within a level.
/// `parents[i]` lists the steps that step `i` depends on.
///
/// ```
/// use tasker_model::template::dependency_levels;
///
/// // a; b and c after a; d after b and c.
/// let parents = vec![vec![], vec![0], vec![0], vec![1, 2]];
/// assert_eq!(dependency_levels(&parents), vec![vec![0], vec![1, 2], vec![3]]);
/// ```
pub fn dependency_levels(parents: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = parents.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = parents.iter().map(Vec::len).collect();
    for (child, ps) in parents.iter().enumerate() {
        for &p in ps {
            children[p].push(child);
        }
    }
    let mut level = vec![0usize; n];
    let mut queue: std::collections::VecDeque<usize> =
        (0..n).filter(|&i| waiting[i] == 0).collect();
    while let Some(v) = queue.pop_front() {
        for &c in &children[v] {
            level[c] = level[c].max(level[v] + 1);
            waiting[c] -= 1;
            if waiting[c] == 0 {
                queue.push_back(c);
            }
        }
    }
    let depth = level.iter().copied().max().map_or(0, |m| m + 1);
    let mut levels = vec![Vec::new(); depth];
    for (i, &l) in level.iter().enumerate() {
        levels[l].push(i);
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cycle_in_dependency_order() {
        // a(0) <- b(1) <- c(2) <- a : a depends on c, b on a, c on b.
        let parents = vec![vec![2], vec![0], vec![1]];
        let cycle = find_cycle(&parents).expect("cycle");
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4);
        // Each element must be a parent of the next one.
        for w in cycle.windows(2) {
            assert!(parents[w[1]].contains(&w[0]), "{cycle:?}");
        }
    }

    #[test]
    fn a_self_dependency_is_a_cycle() {
        assert_eq!(find_cycle(&[vec![0]]), Some(vec![0, 0]));
    }

    #[test]
    fn a_diamond_has_three_levels() {
        let parents = vec![vec![], vec![0], vec![0], vec![1, 2]];
        assert_eq!(find_cycle(&parents), None);
        assert_eq!(
            dependency_levels(&parents),
            vec![vec![0], vec![1, 2], vec![3]]
        );
    }
}
