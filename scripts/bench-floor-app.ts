// The process floor of the end-to-end benchmark: an app that loads cdk8s and writes one ConfigMap.
import { ApiObject, App, Chart } from 'cdk8s';

const app = new App();
new ApiObject(new Chart(app, 'floor'), 'config', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'floor' }, data: { key: 'value' } });
app.synth();
