import { positionsBehind, START } from '../../src/follow/follow-position';

describe('positionsBehind', () => {
  it('counts new positions above forward and backfilled ones below backward', () => {
    expect(positionsBehind(START, { forward: 0, backward: 0 })).toBe(0);
    expect(positionsBehind(START, { forward: 17, backward: 0 })).toBe(17);
    expect(positionsBehind({ forward: 10, backward: -3 }, { forward: 12, backward: -8 })).toBe(7);
  });

  it('is never negative (a stored position past what a restored database has persisted)', () => {
    expect(positionsBehind({ forward: 20, backward: -9 }, { forward: 12, backward: -8 })).toBe(0);
  });
});
