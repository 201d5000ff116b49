//! The gate DAG: `needs` edges checked and ordered with petgraph, plus the
//! selection and ordering queries the scheduler and `mlgate plan` use.
//!
//! Two kinds of order exist. `needs` is a dependency: a gate waits for the
//! gates it needs and is skipped when one of them fails or errors. Stage order
//! (pre-commit, training, deployment) is only a barrier: a deployment gate
//! starts after every selected pre-commit and training gate has finished, but
//! a failing training gate does not skip it unless it `needs` it. A gate may
//! need gates of its own or an earlier stage, never of a later one (the
//! barrier would make that wait forever).
//!
//! Errors (self-need, later-stage need, cycles) are located: the pipeline
//! loader passes a locator that maps (gate, needs entry) to a caret.

use std::collections::{HashSet, VecDeque};

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Pipeline, PluginRef, Stage};

/// The checked dependency graph of a pipeline. Gate numbers are indices into
/// `Pipeline::gates`; an edge runs from a needed gate to the gate needing it.
#[derive(Debug, Clone)]
pub struct GateGraph {
    graph: DiGraph<usize, ()>,
    needs: Vec<Vec<usize>>,
    stages: Vec<Stage>,
    ids: Vec<String>,
}

/// Builds the graph of a pipeline; errors point at the gate's declaration.
/// Pipelines from `pipeline::load` were already checked (with carets on the
/// exact `needs` entries), so this only fails for hand-built pipelines.
pub fn build(p: &Pipeline) -> Result<GateGraph, Diagnostics> {
    let text = std::fs::read_to_string(&p.file).unwrap_or_default();
    let locate = |gate: usize, _need: usize| {
        let pos = p.gates[gate].position;
        let mut d = Diagnostic::at(
            &p.file,
            &text,
            pos.line,
            pos.column,
            p.gates[gate].id.len(),
            "",
        );
        if pos.line == 0 {
            d = Diagnostic::file_level(&p.file, "");
        }
        d
    };
    build_located(p, &locate)
}

/// Builds the graph; `locate(gate, i)` gives an (empty-message) diagnostic
/// located at entry `i` of `p.gates[gate].needs`, which the errors fill in.
pub fn build_located(
    p: &Pipeline,
    locate: &dyn Fn(usize, usize) -> Diagnostic,
) -> Result<GateGraph, Diagnostics> {
    let mut errors = Vec::new();
    let mut graph = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..p.gates.len()).map(|i| graph.add_node(i)).collect();
    let mut needs = vec![Vec::new(); p.gates.len()];
    // (dependency, index in the gate's `needs`) for locating cycle errors.
    let mut entries: Vec<Vec<(usize, usize)>> = vec![Vec::new(); p.gates.len()];
    let say = |gate: usize, i: usize, message: String, help: String| {
        let mut d = locate(gate, i);
        d.message = message;
        d.help = Some(help);
        d
    };
    for (g, gate) in p.gates.iter().enumerate() {
        for (i, need) in gate.needs.iter().enumerate() {
            let Some(d) = p.gate_index(need) else {
                let known: Vec<&str> = p.gates.iter().map(|g| g.id.as_str()).collect();
                errors.push(say(
                    g,
                    i,
                    format!("unknown gate `{need}` in `needs`"),
                    format!("known gates: {}", known.join(", ")),
                ));
                continue;
            };
            if d == g {
                errors.push(say(
                    g,
                    i,
                    format!("gate `{need}` needs itself"),
                    format!("remove `{need}` from its own `needs`"),
                ));
            } else if p.gates[d].stage > gate.stage {
                errors.push(say(
                    g,
                    i,
                    format!(
                        "gate `{}` (stage `{}`) needs `{need}`, which runs in the later stage `{}`",
                        gate.id, gate.stage, p.gates[d].stage
                    ),
                    "stages run in the order pre-commit, training, deployment; a gate can need only gates of its own or an earlier stage".into(),
                ));
            } else if !needs[g].contains(&d) {
                needs[g].push(d);
                entries[g].push((d, i));
                graph.add_edge(nodes[d], nodes[g], ());
            }
        }
    }
    let mut cycles: Vec<(usize, Diagnostic)> = Vec::new();
    for scc in tarjan_scc(&graph) {
        if scc.len() < 2 {
            continue;
        }
        let members: HashSet<usize> = scc.iter().map(|n| graph[*n]).collect();
        let start = *members.iter().min().expect("non-empty");
        let path = shortest_cycle(&needs, &members, start);
        let names: Vec<&str> = path.iter().map(|&g| p.gates[g].id.as_str()).collect();
        let first_need = path[1];
        let i = entries[start]
            .iter()
            .find(|(d, _)| *d == first_need)
            .map(|(_, i)| *i)
            .unwrap_or(0);
        cycles.push((
            start,
            say(
                start,
                i,
                format!("dependency cycle: {}", names.join(" -> ")),
                "`needs` must not lead back to the gate itself; remove one of these dependencies"
                    .into(),
            ),
        ));
    }
    cycles.sort_by_key(|(start, _)| *start);
    errors.extend(cycles.into_iter().map(|(_, d)| d));
    if !errors.is_empty() {
        let mut all = Diagnostics(errors);
        all.sort();
        return Err(all);
    }
    Ok(GateGraph {
        graph,
        needs,
        stages: p.gates.iter().map(|g| g.stage).collect(),
        ids: p.gates.iter().map(|g| g.id.clone()).collect(),
    })
}

/// The shortest `needs` path from `start` back to itself inside one strongly
/// connected component, as gate numbers, `start` first and last.
fn shortest_cycle(needs: &[Vec<usize>], members: &HashSet<usize>, start: usize) -> Vec<usize> {
    let mut parent = vec![usize::MAX; needs.len()];
    let mut queue = VecDeque::from([start]);
    while let Some(g) = queue.pop_front() {
        for &d in &needs[g] {
            if !members.contains(&d) {
                continue;
            }
            if d == start {
                let mut path = vec![g];
                let mut cur = g;
                while cur != start {
                    cur = parent[cur];
                    path.push(cur);
                }
                path.reverse();
                path.push(start);
                return path;
            }
            if parent[d] == usize::MAX && d != start {
                parent[d] = g;
                queue.push_back(d);
            }
        }
    }
    vec![start, start]
}

impl GateGraph {
    /// Number of gates.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the pipeline has no gates.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The gates `gate` needs directly (deduplicated, in `needs` order).
    pub fn needs(&self, gate: usize) -> &[usize] {
        &self.needs[gate]
    }

    /// The gates to run: with `only`, those gates (each must be in `stage`
    /// when one is given); else with `stage`, that stage's gates; else all.
    /// Always plus everything they need, transitively. Sorted by file order.
    pub fn select(&self, stage: Option<Stage>, only: &[String]) -> Result<Vec<usize>, String> {
        let roots = self.roots(stage, only)?;
        let mut seen = vec![false; self.len()];
        let mut stack = roots;
        while let Some(g) = stack.pop() {
            if !std::mem::replace(&mut seen[g], true) {
                stack.extend(&self.needs[g]);
            }
        }
        Ok((0..self.len()).filter(|&g| seen[g]).collect())
    }

    /// Like [`select`](Self::select) with `only`, but without the gates they
    /// need: those count as done (an exported workflow ran them in upstream
    /// jobs). Sorted by file order.
    pub fn select_exact(
        &self,
        stage: Option<Stage>,
        only: &[String],
    ) -> Result<Vec<usize>, String> {
        if only.is_empty() {
            return Err("`--no-needs` needs at least one `--only GATE`".to_string());
        }
        let mut roots = self.roots(stage, only)?;
        roots.sort_unstable();
        roots.dedup();
        Ok(roots)
    }

    /// The gates named by `only` (or `stage`'s, or all), validated.
    fn roots(&self, stage: Option<Stage>, only: &[String]) -> Result<Vec<usize>, String> {
        let mut roots = Vec::new();
        if only.is_empty() {
            roots.extend((0..self.len()).filter(|&g| stage.is_none_or(|s| self.stages[g] == s)));
        } else {
            for id in only {
                let Some(g) = self.ids.iter().position(|k| k == id) else {
                    return Err(format!(
                        "unknown gate `{id}`; known gates: {}",
                        self.ids.join(", ")
                    ));
                };
                if let Some(s) = stage
                    && self.stages[g] != s
                {
                    return Err(format!(
                        "gate `{id}` is in stage `{}`, not `{s}`",
                        self.stages[g]
                    ));
                }
                roots.push(g);
            }
        }
        Ok(roots)
    }

    /// Topological levels of `selection`: stage by stage (the barrier), and
    /// inside a stage by `needs`. Gates of one level can run in parallel.
    /// Needs outside the selection count as satisfied.
    pub fn levels(&self, selection: &[usize]) -> Vec<Vec<usize>> {
        let selected: HashSet<usize> = selection.iter().copied().collect();
        let mut done: HashSet<usize> = HashSet::new();
        let mut levels = Vec::new();
        for stage in Stage::ALL {
            let mut remaining: Vec<usize> = (0..self.len())
                .filter(|g| selected.contains(g) && self.stages[*g] == stage)
                .collect();
            while !remaining.is_empty() {
                let level: Vec<usize> = remaining
                    .iter()
                    .copied()
                    .filter(|g| {
                        self.needs[*g]
                            .iter()
                            .all(|d| done.contains(d) || !selected.contains(d))
                    })
                    .collect();
                if level.is_empty() {
                    break; // unreachable: build() refuses cycles
                }
                done.extend(&level);
                remaining.retain(|g| !level.contains(g));
                levels.push(level);
            }
        }
        levels
    }

    /// Every gate that needs `gate`, directly or not (what a failure of
    /// `gate` skips), in file order.
    pub fn dependents_transitive(&self, gate: usize) -> Vec<usize> {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![NodeIndex::new(gate)];
        while let Some(n) = stack.pop() {
            for m in self.graph.neighbors_directed(n, Direction::Outgoing) {
                if !std::mem::replace(&mut seen[m.index()], true) {
                    stack.push(m);
                }
            }
        }
        (0..self.len()).filter(|&g| seen[g]).collect()
    }

    /// A Mermaid flowchart: one subgraph per stage, an arrow from each needed
    /// gate to the gate that needs it.
    pub fn to_mermaid(&self, p: &Pipeline) -> String {
        let mut out = String::from("flowchart LR\n");
        for stage in Stage::ALL {
            let gates: Vec<usize> = (0..self.len())
                .filter(|g| self.stages[*g] == stage)
                .collect();
            if gates.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "  subgraph {}[\"{stage}\"]\n",
                stage.as_str().replace('-', "_")
            ));
            for g in gates {
                let label = format!("{}<br/>{}", p.gates[g].id, plugin_label(&p.gates[g].plugin));
                out.push_str(&format!("    g{g}[\"{}\"]\n", label.replace('"', "#quot;")));
            }
            out.push_str("  end\n");
        }
        for g in 0..self.len() {
            for d in &self.needs[g] {
                out.push_str(&format!("  g{d} --> g{g}\n"));
            }
        }
        out
    }

    /// A Graphviz digraph: one cluster per stage, an edge from each needed
    /// gate to the gate that needs it.
    pub fn to_dot(&self, p: &Pipeline) -> String {
        let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let mut out = format!("digraph {} {{\n  rankdir=LR;\n", quote(&p.name));
        for stage in Stage::ALL {
            let gates: Vec<usize> = (0..self.len())
                .filter(|g| self.stages[*g] == stage)
                .collect();
            if gates.is_empty() {
                continue;
            }
            out.push_str(&format!(
                "  subgraph cluster_{} {{\n    label={};\n",
                stage.as_str().replace('-', "_"),
                quote(stage.as_str())
            ));
            for g in gates {
                let label = format!("{}\\n{}", p.gates[g].id, plugin_label(&p.gates[g].plugin));
                out.push_str(&format!(
                    "    {} [label=\"{}\"];\n",
                    quote(&p.gates[g].id),
                    label.replace('"', "\\\"")
                ));
            }
            out.push_str("  }\n");
        }
        for g in 0..self.len() {
            for &d in &self.needs[g] {
                out.push_str(&format!(
                    "  {} -> {};\n",
                    quote(&self.ids[d]),
                    quote(&self.ids[g])
                ));
            }
        }
        out.push_str("}\n");
        out
    }
}

/// `builtin:NAME`, or the file name of a `.wasm` plugin (no host paths in
/// exported diagrams).
fn plugin_label(plugin: &PluginRef) -> String {
    match plugin {
        PluginRef::Builtin { name } => format!("builtin:{name}"),
        PluginRef::File { path, .. } => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}
