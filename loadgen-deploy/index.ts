// Deploying perfstack's load engine beyond one machine: a Kubernetes Indexed Job whose pods each
// run one k6 execution segment of the same scenario.
export {
  generateKubernetesJob,
  kubernetesIndexedJob,
  segmentScript,
  segmentSequence,
  segmentOf,
  KUBERNETES_JOB_PATH,
  KUBERNETES_JOB_NAME,
  DEFAULT_SCENARIO,
  DEFAULT_TESTID,
  SERVICE_UNDER_TEST_URL,
  PROMETHEUS_URL,
} from './kubernetes-job.js';
