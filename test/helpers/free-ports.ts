// The tests' free ports are the bench's (src/free-ports.ts).
export { freePort, freePorts } from '../../src/free-ports';
