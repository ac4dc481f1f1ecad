/** One line that says exactly what a fault handle touches, for journals, status and plans: its provider's describe(). */
export { describeHandle } from '../providers';
