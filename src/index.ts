export class BuildRunner {}; export default {}
