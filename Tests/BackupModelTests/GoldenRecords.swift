/// Records as the code before the model module wrote them (`StoreJSON.encode`, pretty): every field set, so a
/// field renamed, dropped or re-encoded by a move shows up as a difference. Generated once from that code; never
/// regenerate them from the current code, or they prove nothing.
enum GoldenRecords {
    static let backup = #"""
        {
          "annotations" : {
            "note" : "golden"
          },
          "cluster" : "https://cluster.example",
          "commit" : "c0ffee",
          "completionTimestamp" : "2023-11-14T22:14:02Z",
          "errors" : [
            "pod volume shop/web/data on node n1: failed"
          ],
          "expiration" : "2023-11-14T23:13:20Z",
          "filter" : {
            "excludeClusterScopedResources" : [

            ],
            "excludeNamespaceScopedResources" : [

            ],
            "excludeNamespaces" : [
              "prod-b"
            ],
            "excludeResources" : [
              "secrets"
            ],
            "includeClusterResources" : false,
            "includeClusterScopedResources" : [

            ],
            "includeNamespaceScopedResources" : [

            ],
            "includeNamespaces" : [
              "shop",
              "prod-*"
            ],
            "includeResources" : [
              "deployments",
              "configmaps"
            ],
            "labelSelector" : "app=shop",
            "orLabelSelectors" : [

            ]
          },
          "hooks" : [
            {
              "command" : [
                "/bin/sync"
              ],
              "container" : "app",
              "exitCode" : 0,
              "namespace" : "shop",
              "onError" : "Fail",
              "phase" : "pre",
              "pod" : "web",
              "seconds" : 0.5,
              "source" : "annotation",
              "stderr" : "",
              "stdout" : "ok"
            }
          ],
          "itemsBackedUp" : 12,
          "labels" : {
            "team" : "a"
          },
          "lockID" : "lock-1",
          "name" : "nightly",
          "phase" : "PartiallyFailed",
          "resourceManifest" : "nightly",
          "snapshotVolumes" : false,
          "startTimestamp" : "2023-11-14T22:13:20Z",
          "storageLocation" : "default",
          "summary" : {
            "bytes" : 4096,
            "newChunks" : 2,
            "newStoredBytes" : 1024,
            "objects" : 12,
            "resourceTypes" : 3,
            "reusedChunks" : 5,
            "seconds" : 1.5,
            "warnings" : 1
          },
          "ttlSeconds" : 3600,
          "volumePathMap" : {
            "entries" : [
              {
                "from" : "/var/lib",
                "to" : "/mnt/node1"
              }
            ]
          },
          "volumeSnapshotLocations" : [
            "vsl-1"
          ],
          "volumes" : [
            {
              "claim" : "shop/data",
              "files" : 3,
              "logicalBytes" : 1000,
              "newStoredBytes" : 200,
              "path" : "/var/lib/data",
              "persistentVolume" : "pv-data",
              "podVolume" : {
                "namespace" : "shop",
                "node" : "n1",
                "pod" : "web",
                "podUID" : "uid-1",
                "podVolumeBackup" : "pvb-1",
                "volume" : "data"
              },
              "seconds" : 0.25,
              "snapshot" : "nightly.pv.pv-data"
            },
            {
              "files" : 0,
              "logicalBytes" : 0,
              "newStoredBytes" : 0,
              "path" : "/far",
              "persistentVolume" : "pv-far",
              "seconds" : 0,
              "skipped" : "no such directory"
            }
          ],
          "warnings" : [
            "namespace 'ghost' does not exist in the cluster"
          ]
        }
        """#

    static let restore = #"""
        {
          "annotations" : {
            "c" : "d"
          },
          "backup" : "nightly",
          "backupCommit" : "c0ffee",
          "completionTimestamp" : "2023-11-14T22:13:27Z",
          "created" : 1,
          "errors" : [
            "configmaps shop/cfg: boom"
          ],
          "failed" : 1,
          "hooks" : [
            {
              "command" : [
                "/bin/true"
              ],
              "container" : "app",
              "error" : "exit 1",
              "namespace" : "shop-copy",
              "onError" : "Continue",
              "phase" : "post",
              "pod" : "web",
              "seconds" : 0.1,
              "source" : "spec:r1",
              "stderr" : "",
              "stdout" : ""
            }
          ],
          "items" : [
            {
              "name" : "web",
              "namespace" : "shop",
              "outcome" : "created",
              "resource" : "pods"
            },
            {
              "message" : "boom",
              "name" : "cfg",
              "namespace" : "shop",
              "outcome" : "failed",
              "resource" : "configmaps"
            }
          ],
          "labels" : {
            "a" : "b"
          },
          "name" : "copy",
          "options" : {
            "excludeNamespaces" : [

            ],
            "excludeResources" : [

            ],
            "existingResourcePolicy" : "update",
            "hooks" : {
              "rules" : [
                {
                  "exec" : [
                    {
                      "hook" : {
                        "command" : [
                          "/bin/true"
                        ],
                        "container" : "app",
                        "onError" : "Continue",
                        "source" : "spec:r1",
                        "timeout" : [
                          1,
                          11553255926290448384
                        ]
                      },
                      "waitForReady" : true,
                      "waitTimeout" : [
                        6,
                        9319535557742690304
                      ]
                    }
                  ],
                  "initContainers" : [
                    [
                      123,
                      34,
                      110,
                      97,
                      109,
                      101,
                      34,
                      58,
                      34,
                      105,
                      110,
                      105,
                      116,
                      34,
                      44,
                      34,
                      105,
                      109,
                      97,
                      103,
                      101,
                      34,
                      58,
                      34,
                      98,
                      117,
                      115,
                      121,
                      98,
                      111,
                      120,
                      34,
                      125
                    ]
                  ],
                  "name" : "r1",
                  "pods" : {
                    "excludedNamespaces" : [

                    ],
                    "excludedResources" : [

                    ],
                    "includedNamespaces" : [
                      "shop"
                    ],
                    "includedResources" : [

                    ],
                    "labelSelector" : "app=web"
                  }
                }
              ]
            },
            "includeNamespaces" : [
              "shop"
            ],
            "includeResources" : [

            ],
            "namespaceMappings" : {
              "shop" : "shop-copy"
            },
            "namespaceTerminatingTimeout" : 600,
            "orLabelSelectors" : [

            ],
            "preserveNodePorts" : false,
            "resourceModifierConfigMap" : "modifiers",
            "statusExcludeResources" : [

            ],
            "statusIncludeResources" : [

            ],
            "veleroNamespace" : "velero"
          },
          "phase" : "PartiallyFailed",
          "skipped" : 0,
          "startTimestamp" : "2023-11-14T22:13:20Z",
          "updated" : 0,
          "volumes" : [
            {
              "bytes" : 1000,
              "path" : "/var/lib/data",
              "persistentVolume" : "pv-data",
              "seconds" : 0.5
            }
          ],
          "warnings" : [
            "w1"
          ]
        }
        """#

    static let manifest = #"""
        {
          "completedAt" : "2023-11-14T22:13:23Z",
          "filter" : {
            "excludeClusterScopedResources" : [

            ],
            "excludeNamespaceScopedResources" : [

            ],
            "excludeNamespaces" : [

            ],
            "excludeResources" : [

            ],
            "includeClusterScopedResources" : [

            ],
            "includeNamespaceScopedResources" : [

            ],
            "includeNamespaces" : [

            ],
            "includeResources" : [

            ],
            "orLabelSelectors" : [
              "a=b",
              "c=d"
            ]
          },
          "name" : "nightly",
          "server" : "https://cluster.example",
          "startedAt" : "2023-11-14T22:13:20Z",
          "streams" : [
            {
              "bytes" : 6,
              "chunks" : [
                {
                  "id" : "dd56de4137951d9c92681b03416ec15f886b4482a27e3a517d32f085244cbe5d",
                  "length" : 6
                }
              ],
              "objects" : [
                {
                  "length" : 6,
                  "name" : "web",
                  "namespace" : "shop",
                  "offset" : 0
                }
              ],
              "resource" : {
                "group" : "apps",
                "kind" : "Deployment",
                "name" : "deployments",
                "namespaced" : true,
                "shortNames" : [
                  "deploy"
                ],
                "singularName" : "deployment",
                "verbs" : [
                  "create",
                  "delete",
                  "get",
                  "list",
                  "patch",
                  "update",
                  "watch"
                ],
                "version" : "v1"
              }
            }
          ],
          "warnings" : [
            "w"
          ]
        }
        """#

    static let manifestRecord = #"""
        {
          "commit" : "c0ffee",
          "manifest" : [
            {
              "id" : "dd56de4137951d9c92681b03416ec15f886b4482a27e3a517d32f085244cbe5d",
              "length" : 6
            }
          ],
          "name" : "nightly",
          "summary" : {
            "bytes" : 6,
            "newChunks" : 1,
            "newStoredBytes" : 6,
            "objects" : 1,
            "resourceTypes" : 1,
            "reusedChunks" : 0,
            "seconds" : 0.5,
            "warnings" : 0
          }
        }
        """#
}
