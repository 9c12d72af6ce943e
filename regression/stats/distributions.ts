// The few distribution functions the tests need, in closed form (no simulation, no randomness):
// the normal quantile, Student's t (CDF and quantile), and the tail of the supremum of a
// standardised Brownian bridge, which calibrates a scan over every split of a segment.

import normalCdf from '@stdlib/stats-base-dists-normal-cdf';

export function normalCdfStd(x: number): number {
  return normalCdf(x, 0, 1);
}

export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** The standard normal quantile (Acklam's rational approximation, refined by one Halley step; |error| < 1e-12). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? Number.NEGATIVE_INFINITY : p === 1 ? Number.POSITIVE_INFINITY : Number.NaN;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const e = normalCdfStd(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = coefficients[0]!;
  for (let i = 1; i < 9; i++) sum += coefficients[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of the regularised incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-14) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Two-sided tail of Student's t with `df` degrees of freedom: P(|T| ≥ |t|). */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? Number.NaN : 0;
  if (df === Number.POSITIVE_INFINITY || df > 1e7) return 2 * (1 - normalCdfStd(Math.abs(t)));
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The (1 − p/2) quantile of Student's t: |T| exceeds it with probability p. */
export function studentCritical(p: number, df: number): number {
  if (df === Number.POSITIVE_INFINITY || df > 1e7) return normalQuantile(1 - p / 2);
  let low = 0;
  let high = Math.max(10, normalQuantile(1 - p / 2) * 4);
  while (studentTwoSidedP(high, df) > p) high *= 2;
  for (let i = 0; i < 100; i++) {
    const middle = (low + high) / 2;
    if (studentTwoSidedP(middle, df) > p) low = middle;
    else high = middle;
    if (high - low < 1e-10 * high) break;
  }
  return (low + high) / 2;
}

/**
 * P(sup |B(t)| / √(t(1 − t)) > b over t in [t0, 1 − t0]) for a Brownian bridge B: the null tail of
 * the largest standardised CUSUM over every split that leaves a fraction ≥ t0 on each side
 * (Estrella 2003, one dimension: φ(b)·((b − 1/b)·L + 4/b), L = log((1 − t0)² / t0²)). A scan over
 * a finite segment is a maximum over fewer splits than the continuous supremum, so this p-value is
 * conservative; never below the p-value of a single split.
 */
export function bridgeScanPValue(b: number, t0: number): number {
  if (!(b > 0)) return 1;
  const single = 2 * (1 - normalCdfStd(b));
  const edge = Math.min(0.5, Math.max(t0, 1e-6));
  const L = Math.log(((1 - edge) * (1 - edge)) / (edge * edge));
  const approx = normalPdf(b) * ((b - 1 / b) * L + 4 / b);
  return Math.min(1, Math.max(single, approx));
}
