/** Built-in functions for derived features. Pure; results that are NaN or infinite become null upstream. */

const EARTH_RADIUS_KM = 6371.0088;
const RAD = Math.PI / 180;

/** Great-circle distance in km between two (latitude, longitude) points in degrees. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** (x - mean) / stddev; a zero stddev gives a non-finite value, which becomes null. */
export function zscore(x: number, mean: number, stddev: number): number {
  return (x - mean) / stddev;
}
