/** firstNonCanonicalNumber reads numbers as written, which JSON.parse cannot tell apart (1.0 and 1). */
import { firstNonCanonicalNumber } from '../../src/core/json-numbers';

describe('firstNonCanonicalNumber', () => {
  it.each([
    ['{"a":1.0}', { token: '1.0', key: 'a', problem: 'not an integer' }],
    ['{"a":[1,2,{"b":-1E+2}]}', { token: '-1E+2', key: 'a', problem: 'not an integer' }],
    ['{"a":"\\"1.0","b" : 0.5}', { token: '0.5', key: 'b', problem: 'not an integer' }],
    ['{"a\\\\":1,"b":12345678901234567}', { token: '12345678901234567', key: 'b', problem: 'out of range' }],
    ['[1, 2.5]', { token: '2.5', key: undefined, problem: 'not an integer' }],
    ['["unsigned", 2.5]', { token: '2.5', key: undefined, problem: 'not an integer' }],
    ['{"unsigned":1,"u\\u006esigned":{"age":1.5}}', undefined],
    ['{"unsigned":{"unsigned":1.5},"c":{"unsigned":2.5}}', { token: '2.5', key: 'c', problem: 'not an integer' }],
    ['{"a":-0,"b":9007199254740991,"c":-9007199254740991,"d":"1.5","e":[true,false,null]}', undefined],
  ])('%s', (text, expected) => {
    expect(firstNonCanonicalNumber(text, 'unsigned')).toEqual(expected);
  });

  it('passes over nothing without a key to skip', () => {
    expect(firstNonCanonicalNumber('{"unsigned":{"age":1.5}}')).toEqual({ token: '1.5', key: 'unsigned', problem: 'not an integer' });
  });
});
