//! The grain graph of a structure: one node per grain that owns cells, one edge per pair of
//! grains that share cell faces (4-neighbour, non-periodic). The input of message-passing
//! networks, which see grains and their boundaries instead of a raster.

use super::structure::Structure;
use ndarray::Array2;
use std::collections::BTreeMap;

/// Names of the columns of [`GrainGraph::node_features`].
pub const NODE_FEATURES: [&str; 6] = [
    "area_fraction",
    "cos2psi",
    "sin2psi",
    "x",
    "y",
    "edge_fraction",
];
/// Names of the columns of [`GrainGraph::edge_features`].
pub const EDGE_FEATURES: [&str; 3] = ["boundary_nm", "cos2dpsi", "abs_sin_dpsi"];

#[derive(Clone, Debug, PartialEq)]
pub struct GrainNode {
    /// The grain id in the structure.
    pub grain: u32,
    /// Cells of the grain over cells of the sample.
    pub area_fraction: f64,
    /// (cos 2ψ, sin 2ψ): an easy axis is a line, so ψ and ψ + π give the same pair.
    pub axis: [f64; 2],
    /// Mean cell centre over the sample's width and height, in 0..1.
    pub centroid: [f64; 2],
    /// Fraction of the grain's cells that touch the sample's edge.
    pub edge_fraction: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GrainEdge {
    /// Node indices, `a < b`.
    pub a: usize,
    pub b: usize,
    /// Shared cell faces × cell size, nm.
    pub boundary_nm: f64,
    /// cos 2Δψ: 1 for parallel axes, −1 for perpendicular ones.
    pub cos2dpsi: f64,
    /// |sin Δψ|: 0 for parallel axes, 1 for perpendicular ones.
    pub abs_sin_dpsi: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GrainGraph {
    /// Grains in id order.
    pub nodes: Vec<GrainNode>,
    /// Sorted by (a, b).
    pub edges: Vec<GrainEdge>,
    /// Area of the sample, nm² (node areas are fractions of it).
    pub sample_area_nm2: f64,
}

impl GrainGraph {
    /// [nodes, NODE_FEATURES].
    pub fn node_features(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.nodes.len(), NODE_FEATURES.len()), |(k, f)| {
            let n = &self.nodes[k];
            [
                n.area_fraction,
                n.axis[0],
                n.axis[1],
                n.centroid[0],
                n.centroid[1],
                n.edge_fraction,
            ][f]
        })
    }

    /// [edges, EDGE_FEATURES].
    pub fn edge_features(&self) -> Array2<f64> {
        Array2::from_shape_fn((self.edges.len(), EDGE_FEATURES.len()), |(k, f)| {
            let e = &self.edges[k];
            [e.boundary_nm, e.cos2dpsi, e.abs_sin_dpsi][f]
        })
    }

    /// Area of node `k`, nm².
    pub fn area_nm2(&self, k: usize) -> f64 {
        self.nodes[k].area_fraction * self.sample_area_nm2
    }
}

/// Per-grain sums over its cells.
#[derive(Clone, Default)]
struct Tally {
    cells: usize,
    sum_x: f64,
    sum_y: f64,
    on_edge: usize,
}

impl Structure {
    pub fn grain_graph(&self) -> GrainGraph {
        let (nx, ny) = (self.nx(), self.ny());
        let grain = self.grains();
        let mut tally = vec![Tally::default(); self.n_grains()];
        // Shared faces per grain-id pair (low, high).
        let mut faces: BTreeMap<(u32, u32), usize> = BTreeMap::new();
        for j in 0..ny {
            for i in 0..nx {
                let g = grain[self.index(i, j)];
                let t = &mut tally[g as usize];
                t.cells += 1;
                t.sum_x += i as f64 + 0.5;
                t.sum_y += j as f64 + 0.5;
                t.on_edge += usize::from(i == 0 || j == 0 || i + 1 == nx || j + 1 == ny);
                let right = (i + 1 < nx).then(|| grain[self.index(i + 1, j)]);
                let up = (j + 1 < ny).then(|| grain[self.index(i, j + 1)]);
                for h in [right, up].into_iter().flatten().filter(|&h| h != g) {
                    *faces.entry((g.min(h), g.max(h))).or_default() += 1;
                }
            }
        }
        let mut node_of = vec![usize::MAX; self.n_grains()];
        let cells = self.n_cells() as f64;
        let mut nodes = vec![];
        for (g, t) in tally.iter().enumerate().filter(|(_, t)| t.cells > 0) {
            node_of[g] = nodes.len();
            let psi = self.grain_angles()[g];
            let n = t.cells as f64;
            nodes.push(GrainNode {
                grain: g as u32,
                area_fraction: n / cells,
                axis: [(2.0 * psi).cos(), (2.0 * psi).sin()],
                centroid: [t.sum_x / n / nx as f64, t.sum_y / n / ny as f64],
                edge_fraction: t.on_edge as f64 / n,
            });
        }
        // Grain ids grow with node indices, so (low, high) ids give a < b.
        let edges = faces
            .into_iter()
            .map(|((g, h), count)| {
                let d = self.grain_angles()[g as usize] - self.grain_angles()[h as usize];
                GrainEdge {
                    a: node_of[g as usize],
                    b: node_of[h as usize],
                    boundary_nm: count as f64 * self.cell_nm(),
                    cos2dpsi: (2.0 * d).cos(),
                    abs_sin_dpsi: d.sin().abs(),
                }
            })
            .collect();
        let (lx, ly) = self.size_nm();
        GrainGraph {
            nodes,
            edges,
            sample_area_nm2: lx * ly,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn grain_graph_of_a_hand_made_raster() {
        // 4 × 3 cells of 2 nm (rows from j = 0 up); grain 1 owns no cell.
        //   j=2: 3 3 2 2
        //   j=1: 0 0 2 2
        //   j=0: 0 0 0 2
        let grain = vec![0, 0, 0, 2, 0, 0, 2, 2, 3, 3, 2, 2];
        let angles = vec![0.0, 1.0, PI / 2.0, PI / 4.0];
        let s = Structure::from_grains(4, 3, 2.0, grain, angles).unwrap();
        let g = s.grain_graph();
        assert_eq!(
            g.nodes.iter().map(|n| n.grain).collect::<Vec<_>>(),
            vec![0, 2, 3]
        );
        assert_eq!(g.sample_area_nm2, 48.0);
        let n0 = &g.nodes[0];
        assert!(close(n0.area_fraction, 5.0 / 12.0));
        // Cells (0,0) (1,0) (2,0) (0,1) (1,1): x = (0.5+1.5+2.5+0.5+1.5)/5 = 1.3 of 4.
        assert!(close(n0.centroid[0], 1.3 / 4.0) && close(n0.centroid[1], 0.9 / 3.0));
        assert!(close(n0.edge_fraction, 4.0 / 5.0));
        assert!(close(n0.axis[0], 1.0) && close(n0.axis[1], 0.0));
        let n2 = &g.nodes[1];
        assert!(close(n2.area_fraction, 5.0 / 12.0));
        assert!(close(n2.axis[0], -1.0) && n2.axis[1].abs() < 1e-12);
        assert!(close(n2.edge_fraction, 4.0 / 5.0), "(2, 1) is inside");
        let n3 = &g.nodes[2];
        assert!(close(n3.centroid[0], 1.0 / 4.0) && close(n3.centroid[1], 2.5 / 3.0));
        assert!(close(n3.axis[0], 0.0) && close(n3.axis[1], 1.0));
        assert!(close(g.area_nm2(2), 8.0));
        // 0–2: faces (2,0)|(3,0), (1,1)|(2,1), (2,0)|(2,1) = 3; 0–3: (0,1)|(0,2),
        // (1,1)|(1,2) = 2; 2–3: (1,2)|(2,2) = 1.
        let pairs: Vec<(usize, usize, f64)> =
            g.edges.iter().map(|e| (e.a, e.b, e.boundary_nm)).collect();
        assert_eq!(pairs, vec![(0, 1, 6.0), (0, 2, 4.0), (1, 2, 2.0)]);
        let e02 = &g.edges[0];
        assert!(close(e02.cos2dpsi, -1.0) && close(e02.abs_sin_dpsi, 1.0));
        let e23 = &g.edges[2];
        assert!(e23.cos2dpsi.abs() < 1e-12 && close(e23.abs_sin_dpsi, 0.5f64.sqrt()));
        assert_eq!(g.node_features().shape(), &[3, NODE_FEATURES.len()]);
        assert_eq!(g.edge_features()[[1, 0]], 4.0);
    }

    #[test]
    fn grain_graph_axes_are_lines_and_one_grain_has_no_edges() {
        // ψ and ψ + π are the same axis: the same node and edge features.
        let a = Structure::from_grains(2, 1, 1.0, vec![0, 1], vec![0.3, 1.1]).unwrap();
        let b = Structure::from_grains(2, 1, 1.0, vec![0, 1], vec![0.3 + PI, 1.1]).unwrap();
        let (ga, gb) = (a.grain_graph(), b.grain_graph());
        for (x, y) in ga.node_features().iter().zip(gb.node_features().iter()) {
            assert!((x - y).abs() < 1e-12);
        }
        for (x, y) in ga.edge_features().iter().zip(gb.edge_features().iter()) {
            assert!((x - y).abs() < 1e-12);
        }
        let one = Structure::from_grains(3, 3, 2.0, vec![0; 9], vec![0.5]).unwrap();
        let g = one.grain_graph();
        assert_eq!((g.nodes.len(), g.edges.len()), (1, 0));
        assert!(close(g.nodes[0].centroid[0], 0.5) && close(g.nodes[0].edge_fraction, 8.0 / 9.0));
    }
}
