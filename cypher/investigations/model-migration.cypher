// @description Accounts that moved most of their traffic to a model within `hours` of its release (its third account's first use, as model_pivot_24h takes it): per account, the share of its requests in that window that went to the model. Accounts on it since more than `hours` before its release had early access and are not listed.
// @param model model
// @param hours int 1..8760 = 24
// @param minShare float 0..1 = 0.5
// @param limit int 1..10000 = 100
// The release as the scorer takes it (releaseMinAccounts = 3): one event with a wrong
// clock moves neither. A model fewer than three accounts used has no release: no rows.
// The three earliest only (a top-3 sort, not every user's first use in one list).
MATCH (m:Model {name: $model})<-[first:USED_MODEL]-(:Account)
WITH m, first.firstUse AS f WHERE f IS NOT NULL
ORDER BY f LIMIT 3
WITH m, collect(f)[2] AS release
WHERE release IS NOT NULL
WITH m, release, release / 3600000 AS startHour, release / 3600000 + $hours AS endHour
// An account on the model since more than `hours` before its release had early access:
// it did not move to it (as the scorer's pivot, activity.ts modelPivot).
MATCH (m)<-[u:USED_MODEL]-(a:Account)
WHERE NOT u.firstUse < release - $hours * 3600000
WITH a, release, startHour, endHour,
  reduce(s = 0, i IN range(0, size(u.hourKeys) - 1) |
    s + CASE WHEN u.hourKeys[i] >= startHour AND u.hourKeys[i] < endHour THEN u.hourCounts[i] ELSE 0 END) AS onModel
WHERE onModel > 0
// Over all the account's requests in the window (its own hour series), as the scorer's
// pivot takes them: requests that name no model count too (not only its models' series).
WITH a, release, onModel,
  reduce(s = 0, i IN range(0, size(coalesce(a.hourKeys, [])) - 1) |
    s + CASE WHEN a.hourKeys[i] >= startHour AND a.hourKeys[i] < endHour THEN a.hourCounts[i] ELSE 0 END) AS inWindow
WITH a, release, onModel, inWindow, toFloat(onModel) / inWindow AS share
WHERE share >= $minShare
RETURN a.id AS accountId, release AS modelReleased, onModel, inWindow, share
ORDER BY share DESC, onModel DESC, accountId
LIMIT $limit
