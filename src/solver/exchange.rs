//! Exchange: Σ over neighbour pairs 2AV(1 − m_i·m_j)/Δ², free boundary (missing neighbours
//! are left out). Reduced: ε = Σ_links w(1 − m_i·m_j), w = A_link/(K1Δ²); h_i = Σ_j w m_j
//! (the −m_i part of the Laplacian is parallel to m and exerts no torque).

use super::material::link_exchange;
use super::problem::Problem;

pub struct Exchange {
    nx: usize,
    ny: usize,
    /// Weight of the link c — c+1 (zero in the last column).
    wx: Vec<f64>,
    /// Weight of the link c — c+nx (zero in the last row).
    wy: Vec<f64>,
    /// Σ of all link weights (the energy of a fully antiparallel-free reference).
    total: f64,
}

impl Exchange {
    pub fn new(p: &Problem) -> Self {
        let mesh = p.mesh();
        let (nx, ny) = (mesh.nx, mesh.ny);
        let k1 = p.material().k1;
        let (mut wx, mut wy) = (vec![0.0; nx * ny], vec![0.0; nx * ny]);
        for j in 0..ny {
            for i in 0..nx {
                let c = j * nx + i;
                let a = p.cell_material(c).a;
                if i + 1 < nx {
                    let a2 = link_exchange(a, p.cell_material(c + 1).a);
                    wx[c] = a2 / (k1 * mesh.dx * mesh.dx);
                }
                if j + 1 < ny {
                    let a2 = link_exchange(a, p.cell_material(c + nx).a);
                    wy[c] = a2 / (k1 * mesh.dy * mesh.dy);
                }
            }
        }
        let total = wx.iter().chain(&wy).sum();
        Exchange {
            nx,
            ny,
            wx,
            wy,
            total,
        }
    }

    /// h_i += Σ_j w_ij m_j for the cells `cells` (`hx`, `hy` hold just those cells).
    /// Away from the first and last row every cell has all four neighbour slots (a link
    /// leaving the grid sideways has weight zero), so that part runs on equal-length
    /// shifted slices, which the compiler vectorises.
    pub fn add_field(
        &self,
        mx: &[f64],
        my: &[f64],
        cells: std::ops::Range<usize>,
        hx: &mut [f64],
        hy: &mut [f64],
    ) {
        let (nx, n) = (self.nx, self.nx * self.ny);
        let inner = cells.start.max(nx).min(cells.end)..cells.end.min(n.saturating_sub(nx));
        for c in cells.clone() {
            if !inner.contains(&c) {
                self.add_one(
                    mx,
                    my,
                    c,
                    &mut hx[c - cells.start],
                    &mut hy[c - cells.start],
                );
            }
        }
        if inner.is_empty() {
            return;
        }
        let (a, b) = (inner.start, inner.end);
        let at = a - cells.start..b - cells.start;
        let (we, ww, wn, ws) = (
            &self.wx[a..b],
            &self.wx[a - 1..b - 1],
            &self.wy[a..b],
            &self.wy[a - nx..b - nx],
        );
        for (h, m) in [(&mut hx[at.clone()], mx), (&mut hy[at], my)] {
            let (me, mw, mn, ms) = (
                &m[a + 1..b + 1],
                &m[a - 1..b - 1],
                &m[a + nx..b + nx],
                &m[a - nx..b - nx],
            );
            for i in 0..h.len() {
                h[i] += we[i] * me[i] + ww[i] * mw[i] + wn[i] * mn[i] + ws[i] * ms[i];
            }
        }
    }

    /// One cell's exchange field, with the grid's edges checked.
    fn add_one(&self, mx: &[f64], my: &[f64], c: usize, hx: &mut f64, hy: &mut f64) {
        let (nx, n) = (self.nx, self.nx * self.ny);
        let mut add = |w: f64, j: usize| {
            *hx += w * mx[j];
            *hy += w * my[j];
        };
        if c + 1 < n {
            add(self.wx[c], c + 1);
        }
        if c >= 1 {
            add(self.wx[c - 1], c - 1);
        }
        if c + nx < n {
            add(self.wy[c], c + nx);
        }
        if c >= nx {
            add(self.wy[c - nx], c - nx);
        }
    }

    /// The link weights (w of c — c+1, w of c — c+nx), one per cell, for the tensor backend.
    pub(crate) fn weights(&self) -> (&[f64], &[f64]) {
        (&self.wx, &self.wy)
    }

    /// Σ_j w_cj over the links of cell c: the Laplacian's −m_c part is this times m_c.
    pub fn cell_weight(&self, c: usize) -> f64 {
        let (i, j) = (c % self.nx, c / self.nx);
        let mut w = self.wx[c] + self.wy[c];
        if i > 0 {
            w += self.wx[c - 1];
        }
        if j > 0 {
            w += self.wy[c - self.nx];
        }
        w
    }

    /// Σ_links w: with h = Σ_j w m_j the energy is this − ½Σ h·m.
    pub fn link_sum(&self) -> f64 {
        self.total
    }

    /// Σ_links w(1 − m_i·m_j).
    pub fn energy(&self, mx: &[f64], my: &[f64]) -> f64 {
        let nx = self.nx;
        let mut e = 0.0;
        for j in 0..self.ny {
            let row = j * nx;
            for c in row..row + nx - 1 {
                e += self.wx[c] * (1.0 - mx[c] * mx[c + 1] - my[c] * my[c + 1]);
            }
        }
        for c in 0..nx * (self.ny - 1) {
            e += self.wy[c] * (1.0 - mx[c] * mx[c + nx] - my[c] * my[c + nx]);
        }
        e
    }
}
