/** A file that parses but cannot be planned as it stands (production without the flag, a region outside target.regions). */
export class PlanRefused extends Error {
  override name = 'PlanRefused';
}
